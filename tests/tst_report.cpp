// The incident report (issue 7): the PDF written from the demo case holds the case's figures
// (counted here with SQL, not through the report code), every page renders, page sizes and
// campaign scope are honoured, bad arguments are refused, and the page layout never loses
// or repeats a table row at a page break.
#include "views/report/PagedReport.h"

#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSqlDatabase>
#include <QSqlQuery>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUuid>
#include <QtTest>

#include "support/CaseSql.h"

namespace {

struct Run {
    int code = -1;
    QString out, err;
};

Run run(const QString& program, const QStringList& args, int timeoutMs = 300000) {
    QProcess p;
    p.start(program, args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

Run cli(const QStringList& args) { return run(QStringLiteral(MT_CLI_PATH), args); }

QString sqlText(const QString& casePath, const QString& sql) { return mt::test::CaseSql(casePath).text(sql); }

QString pdfText(const QString& pdf) {
    const Run r = run(QStringLiteral("pdftotext"), {QStringLiteral("-layout"), pdf, QStringLiteral("-")});
    return r.code == 0 ? r.out : QString();
}

int pdfPages(const QString& pdf) {
    const Run r = run(QStringLiteral("pdfinfo"), {pdf});
    const auto m = QRegularExpression(QStringLiteral("Pages:\\s+(\\d+)")).match(r.out);
    return m.hasMatch() ? m.captured(1).toInt() : -1;
}

QString localeNumber(qint64 n) { return QLocale(QLocale::English).toString(n); }

} // namespace

class TestReport : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_case;

private slots:
    void initTestCase() {
        if (QStandardPaths::findExecutable(QStringLiteral("pdftotext")).isEmpty())
            QSKIP("pdftotext (poppler-utils) missing: scripts/install-deps.sh --test installs it");
        QVERIFY(m_dir.isValid());
        m_case = m_dir.filePath(QStringLiteral("demo.mtcase"));
        const QString demo = QStringLiteral(MT_TEST_DATA "/../../resources/demo");
        QStringList args{QStringLiteral("import"), QStringLiteral("--case"), m_case, QStringLiteral("--org"), demo + QStringLiteral("/org.csv")};
        for (const QString& f : QDir(demo).entryList({QStringLiteral("*.log.gz")}, QDir::Files, QDir::Name)) args << demo + QLatin1Char('/') + f;
        Run r = cli(args);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        r = cli({QStringLiteral("detect"), QStringLiteral("--case"), m_case});
        QVERIFY2(r.code == 0, qPrintable(r.err));
    }

    void reportHoldsTheCaseFigures() {
        const QString pdf = m_dir.filePath(QStringLiteral("report.pdf"));
        const Run r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_case, QStringLiteral("--output"), pdf,
                           QStringLiteral("--analyst"), QStringLiteral("Dana Analyst"), QStringLiteral("--json")});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains(QStringLiteral("\"pages\":")));
        const QString text = pdfText(pdf);
        QVERIFY(!text.isEmpty());
        const qint64 messages = sqlText(m_case, QStringLiteral("SELECT count(*) FROM messages")).toLongLong();
        const qint64 flagged = sqlText(m_case, QStringLiteral("SELECT count(*) FROM campaign_messages")).toLongLong();
        const QString zero = sqlText(m_case, QStringLiteral("SELECT patient_zero FROM campaigns ORDER BY id LIMIT 1"));
        const QString label = sqlText(m_case, QStringLiteral("SELECT label FROM campaigns ORDER BY id LIMIT 1"));
        QVERIFY(!zero.isEmpty());
        QVERIFY2(text.contains(localeNumber(messages)), "message count");
        QVERIFY2(text.contains(QStringLiteral("flagged ") + localeNumber(flagged)) || text.contains(localeNumber(flagged)), "flagged count");
        QVERIFY2(text.contains(zero), "patient zero");
        QVERIFY2(text.contains(QStringLiteral("Dana Analyst")), "analyst");
        QVERIFY2(text.contains(label.left(20)), "campaign label");
        // The units the campaign reached, by name (the most affected one at least).
        const QString unit = sqlText(m_case, QStringLiteral(
            "SELECT n.path FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id JOIN users u ON u.email = lower(m.sender) "
            "JOIN units n ON n.id = u.unit_id GROUP BY n.path ORDER BY count(*) DESC, n.path LIMIT 1"));
        QVERIFY2(text.contains(unit), qPrintable(unit));
        QVERIFY(text.contains(QStringLiteral("Contents")));
        QVERIFY(text.contains(QStringLiteral("Executive summary")));
        QVERIFY(text.contains(QStringLiteral("Appendix: audit trail")));
        // Every page renders, and the footer numbers them all.
        const int pages = pdfPages(pdf);
        QVERIFY(pages >= 5);
        QVERIFY(text.contains(QStringLiteral("Page %1 of %1").arg(pages)));
        const QString png = m_dir.filePath(QStringLiteral("page"));
        const Run ppm = run(QStringLiteral("pdftoppm"), {QStringLiteral("-r"), QStringLiteral("40"), QStringLiteral("-png"), pdf, png});
        QCOMPARE(ppm.code, 0);
        QCOMPARE(QDir(m_dir.path()).entryList({QStringLiteral("page*.png")}).size(), pages);
    }

    void pageSizeAndScope() {
        const QString pdf = m_dir.filePath(QStringLiteral("letter.pdf"));
        const QString campaign = sqlText(m_case, QStringLiteral("SELECT min(id) FROM campaigns"));
        Run r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_case, QStringLiteral("--output"), pdf,
                     QStringLiteral("--page-size"), QStringLiteral("Letter"), QStringLiteral("--campaign"), campaign});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const Run info = run(QStringLiteral("pdfinfo"), {pdf});
        QVERIFY2(info.out.contains(QStringLiteral("612 x 792")), qPrintable(info.out));
        QVERIFY(pdfText(pdf).contains(QStringLiteral("campaign #") + campaign));
        // Refused: an unknown campaign (1), a page size nobody has (2), a missing case (1).
        r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_case, QStringLiteral("--output"), pdf, QStringLiteral("--campaign"),
                 QStringLiteral("9999")});
        QCOMPARE(r.code, 1);
        QVERIFY(r.err.contains(QStringLiteral("no campaign #9999")));
        r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_case, QStringLiteral("--output"), pdf, QStringLiteral("--page-size"),
                 QStringLiteral("A9000")});
        QCOMPARE(r.code, 2);
        r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_dir.filePath(QStringLiteral("nope.mtcase")), QStringLiteral("--output"), pdf});
        QCOMPARE(r.code, 1);
        r = cli({QStringLiteral("report"), QStringLiteral("--case"), m_case});
        QCOMPARE(r.code, 2);
    }

    // A table far longer than a page: every row exactly once, in order, none cut in half.
    void longTablesBreakBetweenRows() {
        mt::report::PagedReport rep(QStringLiteral("Layout test"), QPageSize(QPageSize::A4));
        rep.beginSection(QStringLiteral("Rows"));
        QString html = QStringLiteral("<table width='100%'><thead><tr><th>Row</th><th>Text</th></tr></thead>");
        for (int i = 0; i < 400; ++i)
            html += QStringLiteral("<tr><td>row-%1</td><td>%2</td></tr>")
                        .arg(i, 4, 10, QLatin1Char('0'))
                        .arg(i % 7 == 0 ? QStringLiteral("a longer cell that wraps onto a second line of text in this column, "
                                                         "to make rows of different heights across the page breaks")
                                        : QStringLiteral("short"));
        rep.addHtml(html + QStringLiteral("</table>"));
        rep.beginSection(QStringLiteral("After"));
        rep.addHtml(QStringLiteral("<p>the end</p>"));
        const QString pdf = m_dir.filePath(QStringLiteral("layout.pdf"));
        QString error;
        QVERIFY2(rep.write(pdf, &error), qPrintable(error));
        QVERIFY(rep.pageCount() > 5);
        QCOMPARE(pdfPages(pdf), rep.pageCount());
        const QString text = pdfText(pdf);
        int last = -1;
        for (const auto& m : QRegularExpression(QStringLiteral("row-(\\d{4})")).globalMatch(text)) {
            const int n = m.captured(1).toInt();
            QCOMPARE(n, last + 1);
            last = n;
        }
        QCOMPARE(last, 399);
        // The contents point at the right pages.
        const auto contents = rep.contents();
        QCOMPARE(contents.size(), 2);
        QCOMPARE(contents[0].second, 3);
        QCOMPARE(contents[1].second, rep.pageCount());
    }
};

QTEST_MAIN(TestReport)
#include "tst_report.moc"
