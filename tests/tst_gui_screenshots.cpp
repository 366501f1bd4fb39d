// Every view rendered from the demo case the way the README's pictures are made
// (`mailtriage --case FILE --screenshot OUT --view V`), kept as test artefacts under
// build/tests/artefacts/ for a person to look at, and checked here for what a machine can
// see: the size asked for, and a picture that is not blank (many distinct colours). The
// empty states (no case, a case with no flagged mail) are rendered as well.
#include <QDir>
#include <QImage>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

namespace {

int run(const QString& program, const QStringList& args, QString* err = nullptr) {
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    p.start(program, args);
    p.waitForFinished(300000);
    if (err) *err = QString::fromUtf8(p.readAllStandardError());
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
}

int distinctColours(const QImage& img) {
    QSet<QRgb> colours;
    for (int y = 0; y < img.height(); y += 7)
        for (int x = 0; x < img.width(); x += 7) colours.insert(img.pixel(x, y));
    return colours.size();
}

} // namespace

class TestGuiScreenshots : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_case, m_quiet, m_out;

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_out = QStringLiteral(MT_ARTEFACTS);
        QVERIFY(QDir().mkpath(m_out));
        const QString demo = QStringLiteral(MT_TEST_DATA "/../../resources/demo");
        QStringList logs;
        for (const QString& f : QDir(demo).entryList({QStringLiteral("*.log.gz")}, QDir::Files, QDir::Name)) logs << demo + QLatin1Char('/') + f;
        m_case = m_dir.filePath(QStringLiteral("demo.mtcase"));
        QString err;
        QCOMPARE(run(QStringLiteral(MT_CLI_PATH), QStringList{QStringLiteral("import"), QStringLiteral("--case"), m_case,
                                                              QStringLiteral("--org"), demo + QStringLiteral("/org.csv")} + logs, &err), 0);
        QCOMPARE(run(QStringLiteral(MT_CLI_PATH), {QStringLiteral("detect"), QStringLiteral("--case"), m_case}, &err), 0);
        // The same organisation with only its first log and no detection: no flagged mail.
        m_quiet = m_dir.filePath(QStringLiteral("quiet.mtcase"));
        QCOMPARE(run(QStringLiteral(MT_CLI_PATH), {QStringLiteral("import"), QStringLiteral("--case"), m_quiet, QStringLiteral("--org"),
                                                   demo + QStringLiteral("/org.csv"), logs.first()}, &err), 0);
    }

    void views_data() {
        QTest::addColumn<QString>("caseName");
        QTest::addColumn<QString>("view");
        QTest::addColumn<QSize>("size");
        for (const char* v : {"main", "map", "timeline", "campaign", "rules"}) {
            QTest::addRow("demo-%s", v) << QStringLiteral("demo") << QString::fromLatin1(v) << QSize(1400, 900);
            QTest::addRow("quiet-%s", v) << QStringLiteral("quiet") << QString::fromLatin1(v) << QSize(1100, 700);
        }
    }

    void views() {
        QFETCH(QString, caseName);
        QFETCH(QString, view);
        QFETCH(QSize, size);
        const QString png = m_out + QStringLiteral("/%1-%2.png").arg(caseName, view);
        QFile::remove(png);
        QString err;
        const int code = run(QStringLiteral(MT_GUI_PATH),
                             {QStringLiteral("--case"), caseName == QLatin1String("demo") ? m_case : m_quiet, QStringLiteral("--screenshot"),
                              png, QStringLiteral("--size"), QStringLiteral("%1x%2").arg(size.width()).arg(size.height()),
                              QStringLiteral("--view"), view},
                             &err);
        QVERIFY2(code == 0, qPrintable(err));
        const QImage img(png);
        QVERIFY(!img.isNull());
        QCOMPARE(img.size(), size);
        QVERIFY2(distinctColours(img) > 8, qPrintable(png));
    }

    void badViewIsRefused() {
        QString err;
        QCOMPARE(run(QStringLiteral(MT_GUI_PATH), {QStringLiteral("--case"), m_case, QStringLiteral("--screenshot"),
                                                   m_dir.filePath(QStringLiteral("x.png")), QStringLiteral("--view"), QStringLiteral("pie")}, &err), 2);
        QVERIFY(err.contains(QStringLiteral("--view")));
    }
};

QTEST_GUILESS_MAIN(TestGuiScreenshots)
#include "tst_gui_screenshots.moc"
