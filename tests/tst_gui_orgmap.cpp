// The org map (issue 5): the data layer against independent SQL counts on the demo case (an
// ILOVEYOU outbreak imported and detected by the real CLI), the scene (one tile per unit,
// badges, links, user lists), the shared selection both ways, playback, the treemap's
// geometry, empty states and the screenshot hook. Runs offscreen.
//
// With MT_SCREENSHOT_DIR set, the demo, empty and no-flagged cases are also saved there.
#include "model/AnalysisSelection.h"
#include "model/CaseStore.h"
#include "model/orgmap/OrgMapData.h"
#include "views/orgmap/OrgMapLayout.h"
#include "views/orgmap/OrgMapPanel.h"
#include "views/orgmap/OrgMapView.h"
#include "views/orgmap/PlaybackBar.h"
#include "views/orgmap/UnitUsersModel.h"

#include <QApplication>
#include <QDir>
#include <QFileInfo>
#include <QImage>
#include <QLineEdit>
#include <QProcess>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include "support/CaseSql.h"
#include <QUuid>

#include <map>
#include <memory>

using namespace mt;

namespace {

const QString kDemoDir = QStringLiteral(MT_TEST_DATA "/../../resources/demo");

bool runCli(const QStringList& args, QString* err) {
    QProcess p;
    p.start(QStringLiteral(MT_CLI_PATH), args);
    if (!p.waitForFinished(300000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
        *err = QString::fromUtf8(p.readAllStandardError());
        return false;
    }
    return true;
}

QStringList demoLogs() {
    QStringList logs;
    for (const QFileInfo& f : QDir(kDemoDir).entryInfoList({QStringLiteral("*.log.gz")}, QDir::Files, QDir::Name)) logs << f.absoluteFilePath();
    return logs;
}

using Sql = mt::test::CaseSql;

// (message, recipient) pairs of flagged messages, as the case's final deliveries have them.
const char* kFlaggedPairs =
    "(SELECT DISTINCT c.message_id AS mid, lower(d.recipient) AS rcpt FROM campaign_messages cm "
    "JOIN copies c ON c.message_id = cm.message_id JOIN deliveries d ON d.copy_id = c.id WHERE d.is_final = 1)";
const char* kInSubtree = "(u.path = ? OR u.path LIKE ? || '/%')";

void clickTile(OrgMapView& map, int unit) {
    UnitTileItem* tile = map.tileForUnit(unit);
    QVERIFY(tile);
    map.centerOn(tile);
    QApplication::processEvents();
    // A point inside the tile but away from its children (its title band).
    const QRectF r = tile->rect();
    const QPoint p = map.mapFromScene(QPointF(r.left() + r.width() * 0.3, r.top() + 3));
    QTest::mouseClick(map.viewport(), Qt::LeftButton, {}, p);
}

} // namespace

class TestOrgMap : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString m_demo, m_empty, m_noFlags, m_noOrg;

    static int leafWithMostFlagged(const OrgMapView& map) {
        int best = -1;
        const auto& units = map.data()->units();
        for (int i = 0; i < static_cast<int>(units.size()); ++i)
            if (units[i].children.empty() && (best < 0 || map.shownCounts()[i].total() > map.shownCounts()[best].total())) best = i;
        return best;
    }

private slots:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        if (!QFileInfo::exists(QStringLiteral(MT_CLI_PATH))) QSKIP("mailtriage-cli not built");
        const QStringList logs = demoLogs();
        QVERIFY2(logs.size() >= 2, qPrintable(kDemoDir));
        QString err;
        m_demo = m_dir.filePath(QStringLiteral("demo.mtcase"));
        QVERIFY2(runCli(QStringList{"import", "--case", m_demo, "--org", kDemoDir + "/org.csv"} + logs, &err), qPrintable(err));
        QVERIFY2(runCli({"detect", "--case", m_demo}, &err), qPrintable(err));
        m_noFlags = m_dir.filePath(QStringLiteral("noflags.mtcase"));
        QVERIFY2(runCli(QStringList{"import", "--case", m_noFlags, "--org", kDemoDir + "/org.csv"} + logs, &err), qPrintable(err));
        m_noOrg = m_dir.filePath(QStringLiteral("noorg.mtcase"));
        QVERIFY2(runCli(QStringList{"import", "--case", m_noOrg} + logs, &err), qPrintable(err));
        QVERIFY2(runCli({"detect", "--case", m_noOrg}, &err), qPrintable(err));
        m_empty = m_dir.filePath(QStringLiteral("empty.mtcase"));
        CaseStore store;
        store.open(m_empty, true);
        store.close();
    }

    void dataAgreesWithSql() {
        OrgMapData d;
        QString err;
        QVERIFY2(d.load(m_demo, &err), qPrintable(err));
        Sql sql(m_demo);
        QCOMPARE(qint64(d.units().size()), sql.scalar("SELECT count(*) FROM units"));
        QCOMPARE(qint64(d.users().size()), sql.scalar("SELECT count(*) FROM users"));
        QCOMPARE(qint64(d.messages().size()), sql.scalar("SELECT count(*) FROM campaign_messages"));
        QCOMPARE(d.messages().size(), std::size_t(280));
        QVERIFY(d.hasDetection());
        QCOMPARE(d.campaigns().size(), 1);
        const auto counts = d.unitCounts({}, true);
        const auto direct = d.unitCounts({}, false);
        int withFlags = 0;
        for (int i = 0; i < static_cast<int>(d.units().size()); ++i) {
            const OrgUnit& u = d.units()[i];
            const QVariantList p{u.path, u.path};
            QCOMPARE(qint64(u.subtreeHeadCount), sql.scalar(QStringLiteral("SELECT count(*) FROM users s JOIN units u ON u.id = s.unit_id WHERE %1").arg(kInSubtree), p));
            QCOMPARE(qint64(u.headCount), sql.scalar("SELECT count(*) FROM users WHERE unit_id = ?", {u.id}));
            QCOMPARE(qint64(counts[i].sent),
                     sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                               "JOIN users s ON s.email = lower(m.sender) JOIN units u ON u.id = s.unit_id WHERE %1").arg(kInSubtree), p));
            QCOMPARE(qint64(counts[i].received),
                     sql.scalar(QStringLiteral("SELECT count(*) FROM %1 x JOIN users s ON s.email = x.rcpt JOIN units u ON u.id = s.unit_id WHERE %2")
                                    .arg(kFlaggedPairs, kInSubtree), p));
            QCOMPARE(qint64(direct[i].sent),
                     sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                "JOIN users s ON s.email = lower(m.sender) WHERE s.unit_id = ?", {u.id}));
            if (counts[i].total()) ++withFlags;
            // The worm's .vbs: every flagged unit shows the script family, and the double extension.
            if (counts[i].total()) {
                QVERIFY(counts[i].types & typeBit(TypeFamily::Script));
                QVERIFY(counts[i].types & typeBit(TypeFamily::DoubleExtension));
            }
        }
        QVERIFY(withFlags > 10);
        // Links, per (source unit, destination unit).
        std::map<std::pair<qint64, qint64>, qint64> expected;
        for (const QVariantList& r : sql.rows(QStringLiteral("SELECT s.unit_id, r.unit_id, count(*) FROM %1 x JOIN messages m ON m.id = x.mid "
                                                             "JOIN users s ON s.email = lower(m.sender) JOIN users r ON r.email = x.rcpt GROUP BY 1, 2")
                                                  .arg(kFlaggedPairs), 3))
            expected[{r[0].toLongLong(), r[1].toLongLong()}] = r[2].toLongLong();
        std::map<std::pair<qint64, qint64>, qint64> got;
        for (const UnitLink& l : d.links({})) got[{d.units()[l.from].id, d.units()[l.to].id}] += l.count;
        QCOMPARE(got, expected);
        // Per-user counts of one unit.
        const int unit = static_cast<int>(std::max_element(direct.begin(), direct.end(), [](auto& a, auto& b) { return a.total() < b.total(); }) - direct.begin());
        for (const UserCounts& c : d.userCounts(unit, {}, false)) {
            const QString email = d.users()[c.user].email;
            QCOMPARE(qint64(c.sent), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE lower(m.sender) = ?", {email}));
            QCOMPARE(qint64(c.received), sql.scalar(QStringLiteral("SELECT count(*) FROM %1 x WHERE x.rcpt = ?").arg(kFlaggedPairs), {email}));
        }
        // Filters: a campaign that does not exist counts nothing; a time range counts what is in it.
        OrgMapFilter none;
        none.campaign = 999999;
        QCOMPARE(d.messageCount(none), 0);
        const qint64 mid = d.messages()[d.messages().size() / 2].time;
        OrgMapFilter range;
        range.from = d.firstTime();
        range.to = mid;
        QCOMPARE(qint64(d.messageCount(range)),
                 sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE m.time >= ? AND m.time < ?", {range.from, mid}));
    }

    void sceneShowsTheCase() {
        auto d = std::make_shared<OrgMapData>();
        QVERIFY(d->load(m_demo));
        OrgMapView map;
        map.resize(1200, 800);
        map.setData(d);
        Sql sql(m_demo);
        QCOMPARE(qint64(map.tiles().size()), sql.scalar("SELECT count(*) FROM units"));
        int tileItems = 0;
        for (QGraphicsItem* it : map.scene()->items())
            if (dynamic_cast<UnitTileItem*>(it)) ++tileItems;
        QCOMPARE(tileItems, map.tiles().size());
        for (UnitTileItem* t : map.tiles()) {
            const OrgUnit& u = d->units()[t->unit()];
            const QVariantList p{u.path, u.path};
            const qint64 heads = sql.scalar(QStringLiteral("SELECT count(*) FROM users s JOIN units u ON u.id = s.unit_id WHERE %1").arg(kInSubtree), p);
            QVERIFY2(t->title().endsWith(QStringLiteral("(%1)").arg(heads)), qPrintable(t->title()));
            const qint64 sent = sql.scalar(QStringLiteral("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                                          "JOIN users s ON s.email = lower(m.sender) JOIN units u ON u.id = s.unit_id WHERE %1").arg(kInSubtree), p);
            const qint64 received = sql.scalar(QStringLiteral("SELECT count(*) FROM %1 x JOIN users s ON s.email = x.rcpt JOIN units u ON u.id = s.unit_id WHERE %2")
                                                   .arg(kFlaggedPairs, kInSubtree), p);
            const QString expected = sent + received ? QStringLiteral("\u2191%1 \u2193%2").arg(sent).arg(received) : QString();
            QCOMPARE(t->badgeText(), expected);
        }
        // Links between different units, drawn one per (source, destination, campaign).
        std::map<std::pair<qint64, qint64>, qint64> expected;
        for (const QVariantList& r : sql.rows(QStringLiteral("SELECT s.unit_id, r.unit_id, count(*) FROM %1 x JOIN messages m ON m.id = x.mid "
                                                             "JOIN users s ON s.email = lower(m.sender) JOIN users r ON r.email = x.rcpt "
                                                             "WHERE s.unit_id <> r.unit_id GROUP BY 1, 2").arg(kFlaggedPairs), 3))
            expected[{r[0].toLongLong(), r[1].toLongLong()}] = r[2].toLongLong();
        QVERIFY(expected.size() > 5);
        QVERIFY(int(expected.size()) <= 400); // under the cap: every link is drawn
        std::map<std::pair<qint64, qint64>, qint64> drawn;
        for (UnitLinkItem* l : map.linkItems()) {
            drawn[{d->units()[l->link().from].id, d->units()[l->link().to].id}] += l->link().count;
            QVERIFY(l->toolTip().contains(QString::number(l->link().count)));
        }
        QCOMPARE(drawn, expected);
        // The tile's user lines list its users with flagged mail, most first.
        const int leaf = leafWithMostFlagged(map);
        const QStringList lines = map.tileForUnit(leaf)->userLines();
        QVERIFY(!lines.isEmpty());
        const std::vector<int> top = map.topUsers(leaf, 50);
        QCOMPARE(lines.size(), int(top.size()));
        const QString first = d->users()[top[0]].email;
        QVERIFY(lines[0].startsWith(first.section('@', 0, 0)));
        QCOMPARE(qint64(map.shownUserCounts()[top[0]].sent),
                 sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE lower(m.sender) = ?", {first}));
        // Collapsing a division hides its tiles and reroutes its links to it.
        const int division = d->units()[leaf].parent >= 0 ? d->units()[d->units()[leaf].parent].parent : -1;
        if (division >= 0) {
            map.setCollapsed(division, true);
            QVERIFY(!map.tileForUnit(leaf)->isVisible());
            for (UnitLinkItem* l : map.linkItems()) {
                QVERIFY(map.isVisibleUnit(l->link().from));
                QVERIFY(map.isVisibleUnit(l->link().to));
            }
            QVERIFY(!map.tileForUnit(division)->userLines().isEmpty());
            map.setCollapsed(division, false);
            QVERIFY(map.tileForUnit(leaf)->isVisible());
        }
        // Renders (every detail level) without trouble.
        for (double zoom : {0.3, 1.0, 4.0}) {
            map.resetTransform();
            map.scale(zoom, zoom);
            QImage img(map.viewport()->size(), QImage::Format_ARGB32_Premultiplied);
            img.fill(Qt::white);
            QPainter p(&img);
            map.render(&p);
        }
    }

    void usersModelListsTheUnit() {
        auto d = std::make_shared<OrgMapData>();
        QVERIFY(d->load(m_demo));
        Sql sql(m_demo);
        UnitUsersModel model;
        model.setData(d);
        const int unit = d->unitIndex(sql.scalar("SELECT s.unit_id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                                 "JOIN users s ON s.email = lower(m.sender) GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"));
        QVERIFY(unit >= 0);
        model.setUnit(unit, {});
        QCOMPARE(qint64(model.rowCount()), sql.scalar("SELECT count(*) FROM users WHERE unit_id = ?", {d->units()[unit].id}));
        int prevTotal = INT_MAX;
        for (int r = 0; r < model.rowCount(); ++r) {
            const QString email = model.index(r, UnitUsersModel::Email).data().toString();
            const int sent = model.index(r, UnitUsersModel::FlaggedSent).data().toInt();
            const int received = model.index(r, UnitUsersModel::FlaggedReceived).data().toInt();
            QCOMPARE(qint64(sent), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE lower(m.sender) = ?", {email}));
            QCOMPARE(qint64(received), sql.scalar(QStringLiteral("SELECT count(*) FROM %1 x WHERE x.rcpt = ?").arg(kFlaggedPairs), {email}));
            QCOMPARE(model.index(r, UnitUsersModel::Name).data().toString(), sql.rows(QStringLiteral("SELECT coalesce(name, '') FROM users WHERE email = '%1'").arg(email), 1)[0][0].toString());
            if (sent + received) QVERIFY(model.index(r, UnitUsersModel::Types).data().toString().contains(QLatin1String("script")));
            QVERIFY(sent + received <= prevTotal);
            prevTotal = sent + received;
        }
    }

    void selectionSyncsBothWays() {
        AnalysisSelection sel;
        OrgMapPanel panel;
        panel.setSelection(&sel);
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(panel.openCase(m_demo));
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        OrgMapView& map = *panel.map();
        const auto d = panel.data();
        const int leaf = leafWithMostFlagged(map);
        // Click a tile: the selection has its unit, the list shows its users.
        clickTile(map, leaf);
        QCOMPARE(sel.unitId(), d->units()[leaf].id);
        QCOMPARE(sel.unitPath(), d->units()[leaf].path);
        QCOMPARE(map.selectedUnit(), leaf);
        QCOMPARE(panel.usersModel()->unit(), leaf);
        QCOMPARE(panel.usersModel()->rowCount(), d->units()[leaf].headCount);
        // Click a user in the list: the selection has the user.
        const QModelIndex first = panel.usersModel()->index(0, 0);
        panel.usersTable()->scrollTo(first);
        QTest::mouseClick(panel.usersTable()->viewport(), Qt::LeftButton, {}, panel.usersTable()->visualRect(first).center());
        QCOMPARE(sel.user(), first.data().toString());
        // Selection set elsewhere: the tile is highlighted and centred.
        const int other = d->units()[leaf].parent >= 0 ? d->units()[leaf].parent : 0;
        map.scale(6, 6); // zoomed in, so there is room to scroll the tile to the centre
        sel.setUnit(d->units()[other].id, d->units()[other].path);
        QCOMPARE(map.selectedUnit(), other);
        const QPointF centre = map.mapToScene(map.viewport()->rect().center());
        QVERIFY(map.tileForUnit(other)->rect().contains(centre));
        sel.setUnit(0, {});
        QCOMPARE(map.selectedUnit(), -1);
        // A campaign selected elsewhere: only its mail counts (none for an unknown campaign).
        const int before = map.shownCounts()[leaf].total();
        QVERIFY(before > 0);
        sel.setCampaign(d->campaigns()[0].id);
        QCOMPARE(map.shownCounts()[leaf].total(), before);
        sel.setCampaign(424242);
        QCOMPARE(map.shownCounts()[leaf].total(), 0);
        QVERIFY(map.linkItems().isEmpty());
        QCOMPARE(map.note(), QStringLiteral("No flagged mail under the current filter"));
        sel.setCampaign(0);
        // A time range: only messages in it.
        Sql sql(m_demo);
        const qint64 t0 = d->firstTime(), t1 = d->messages()[d->messages().size() / 3].time;
        sel.setTimeRange(t0, t1);
        int top = 0;
        for (std::size_t i = 0; i < d->units().size(); ++i)
            if (d->units()[i].parent < 0) top += map.shownCounts()[i].sent;
        QCOMPARE(qint64(top), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                         "JOIN users s ON s.email = lower(m.sender) WHERE m.time >= ? AND m.time < ?", {t0, t1}));
        sel.setTimeRange(0, 0);
        // Search: a user's address selects the user and the unit.
        panel.searchEdit()->setText(d->users()[d->units()[leaf].headCount ? d->users(leaf)[0] : 0].email.toUpper());
        QTest::keyClick(panel.searchEdit(), Qt::Key_Return);
        QCOMPARE(sel.unitId(), d->units()[leaf].id);
        QCOMPARE(sel.user(), d->users()[d->users(leaf)[0]].email);
        QVERIFY(!map.search(QStringLiteral("no-such-thing-anywhere")));
        // Keyboard: Tab walks the tiles, arrows move to a neighbour, Enter selects.
        map.setFocus();
        map.setCurrentUnit(leaf);
        QTest::keyClick(&map, Qt::Key_Tab);
        QVERIFY(map.currentUnit() != leaf && map.currentUnit() >= 0);
        const int afterTab = map.currentUnit();
        QTest::keyClick(&map, Qt::Key_Backtab);
        QCOMPARE(map.currentUnit(), leaf);
        int moved = 0;
        for (Qt::Key k : {Qt::Key_Right, Qt::Key_Left, Qt::Key_Down, Qt::Key_Up}) {
            map.setCurrentUnit(leaf);
            QTest::keyClick(&map, k);
            if (map.currentUnit() != leaf) {
                ++moved;
                const QPointF a = map.tileForUnit(leaf)->rect().center(), b = map.tileForUnit(map.currentUnit())->rect().center();
                if (k == Qt::Key_Right) QVERIFY(b.x() > a.x());
                if (k == Qt::Key_Left) QVERIFY(b.x() < a.x());
                if (k == Qt::Key_Down) QVERIFY(b.y() > a.y());
                if (k == Qt::Key_Up) QVERIFY(b.y() < a.y());
            }
        }
        QVERIFY(moved >= 2);
        map.setCurrentUnit(afterTab);
        QTest::keyClick(&map, Qt::Key_Return);
        QCOMPARE(sel.unitId(), d->units()[afterTab].id);
        // Zoom keys and fit.
        QTest::keyClick(&map, Qt::Key_0, Qt::ControlModifier);
        const double s0 = map.transform().m11();
        QTest::keyClick(&map, Qt::Key_Equal, Qt::ControlModifier);
        QVERIFY(map.transform().m11() > s0);
        QTest::keyClick(&map, Qt::Key_Minus, Qt::ControlModifier);
        QTest::keyClick(&map, Qt::Key_Minus, Qt::ControlModifier);
        QVERIFY(map.transform().m11() < s0);
        QTest::keyClick(&map, Qt::Key_F);
        QVERIFY(qAbs(map.transform().m11() - s0) < s0 * 0.01);
        // The whole map is in view after fitting.
        const QRectF seen = map.mapToScene(map.viewport()->rect()).boundingRect();
        for (UnitTileItem* t : map.tiles()) QVERIFY(seen.adjusted(-1, -1, 1, 1).contains(t->rect()));
    }

    void playbackShowsMessagesUpToTheCursor() {
        auto d = std::make_shared<OrgMapData>();
        QVERIFY(d->load(m_demo));
        OrgMapView map;
        map.setData(d);
        PlaybackBar bar;
        QObject::connect(&bar, &PlaybackBar::cursorChanged, &map, &OrgMapView::setTimeCursor);
        bar.setRange(d->firstTime(), d->lastTime());
        QCOMPARE(bar.cursor(), PlaybackBar::kAll);
        Sql sql(m_demo);
        auto shownSent = [&] {
            int n = 0;
            for (std::size_t i = 0; i < d->units().size(); ++i)
                if (d->units()[i].parent < 0) n += map.shownCounts()[i].sent;
            return qint64(n);
        };
        auto shownLinks = [&] {
            qint64 n = 0;
            for (const UnitLink& l : d->links(map.filter())) n += l.count;
            return n;
        };
        for (double frac : {0.0, 0.25, 0.5, 0.9}) {
            const qint64 t = d->firstTime() + qint64((d->lastTime() - d->firstTime()) * frac);
            bar.setCursor(t);
            QCOMPARE(map.timeCursor(), t);
            QCOMPARE(shownSent(), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                             "JOIN users s ON s.email = lower(m.sender) WHERE m.time <= ?", {t}));
            QCOMPARE(qint64(d->messageCount(map.filter())), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id WHERE m.time <= ?", {t}));
            QCOMPARE(shownLinks(), sql.scalar(QStringLiteral("SELECT count(*) FROM %1 x JOIN messages m ON m.id = x.mid JOIN users s ON s.email = lower(m.sender) "
                                                            "JOIN users r ON r.email = x.rcpt WHERE m.time <= ?").arg(kFlaggedPairs), {t}));
        }
        // At the first message: exactly patient zero's first message, and its unit is lit.
        bar.setCursor(d->firstTime());
        QVERIFY(shownSent() >= 1);
        const int pz = d->users()[d->messages()[0].sender].unit;
        QVERIFY(map.shownCounts()[pz].recent >= 1);
        // Playing advances the cursor; the end shows everything again.
        QSignalSpy playing(&bar, &PlaybackBar::playingChanged);
        bar.setSpeed(600'000);
        bar.play();
        QVERIFY(bar.isPlaying());
        const qint64 c0 = bar.cursor();
        bar.step(1000);
        QCOMPARE(bar.cursor(), std::min(c0 + 600'000, d->lastTime()) == d->lastTime() ? PlaybackBar::kAll : c0 + 600'000);
        QTRY_VERIFY_WITH_TIMEOUT(!bar.isPlaying(), 30000);
        QCOMPARE(bar.cursor(), PlaybackBar::kAll);
        QCOMPARE(shownSent(), sql.scalar("SELECT count(*) FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id JOIN users s ON s.email = lower(m.sender)"));
        QVERIFY(playing.count() >= 2);
    }

    void layoutGeometry_data() {
        QTest::addColumn<int>("seed");
        for (int s = 1; s <= 6; ++s) QTest::newRow(qPrintable(QString::number(s))) << s;
    }
    void layoutGeometry() {
        QFETCH(int, seed);
        QRandomGenerator rng(seed);
        // A random three-level tree; heads only in some parents.
        std::vector<TreemapNode> nodes;
        const int top = 2 + rng.bounded(6);
        for (int a = 0; a < top; ++a) {
            const int ia = int(nodes.size());
            nodes.push_back({-1, double(rng.bounded(3) == 0 ? rng.bounded(5) : 0)});
            const int mid = rng.bounded(5);
            for (int b = 0; b < mid; ++b) {
                const int ib = int(nodes.size());
                nodes.push_back({ia, double(rng.bounded(4) == 0 ? rng.bounded(3) : 0)});
                const int leaves = rng.bounded(6);
                for (int c = 0; c < leaves; ++c) nodes.push_back({ib, double(rng.bounded(40))});
            }
        }
        const QRectF bounds(0, 0, 1600, 1000);
        TreemapOptions opt;
        const auto rects = layoutTreemap(nodes, bounds, opt);
        const auto weights = treemapWeights(nodes, opt);
        const double eps = 1e-6;
        for (std::size_t i = 0; i < nodes.size(); ++i) {
            QVERIFY(rects[i].width() > 0 && rects[i].height() > 0);
            const QRectF outer = nodes[i].parent < 0 ? bounds : treemapContentRect(rects[nodes[i].parent], opt);
            QVERIFY2(outer.adjusted(-eps, -eps, eps, eps).contains(rects[i]), "child outside its parent");
            for (std::size_t j = i + 1; j < nodes.size(); ++j) {
                if (nodes[j].parent != nodes[i].parent) continue;
                const QRectF x = rects[i].intersected(rects[j]);
                QVERIFY2(x.width() * x.height() < 1e-6, "siblings overlap");
                // Areas proportional to weight among siblings.
                const double ra = rects[i].width() * rects[i].height() / (rects[j].width() * rects[j].height());
                const double rw = weights[i] / weights[j];
                QVERIFY2(qAbs(ra / rw - 1) < 1e-6, qPrintable(QStringLiteral("area ratio %1 vs weight ratio %2").arg(ra).arg(rw)));
            }
        }
        // Top level fills the bounds.
        double area = 0;
        for (std::size_t i = 0; i < nodes.size(); ++i)
            if (nodes[i].parent < 0) area += rects[i].width() * rects[i].height();
        QVERIFY(qAbs(area - bounds.width() * bounds.height()) < 1);
        // Squarified: aspect ratios stay reasonable for equal weights.
        const auto sq = squarify(std::vector<double>(16, 1.0), QRectF(0, 0, 400, 400));
        for (const QRectF& r : sq) QVERIFY(std::max(r.width() / r.height(), r.height() / r.width()) < 2.01);
    }

    void emptyStates() {
        OrgMapView map;
        map.setData(nullptr);
        QCOMPARE(map.note(), QStringLiteral("No case open"));
        QVERIFY(map.tiles().isEmpty());

        auto empty = std::make_shared<OrgMapData>();
        QVERIFY(empty->load(m_empty));
        map.setData(empty);
        QVERIFY(map.tiles().isEmpty());
        QVERIFY(map.note().startsWith(QStringLiteral("No users in this case")));

        auto noFlags = std::make_shared<OrgMapData>();
        QVERIFY(noFlags->load(m_noFlags));
        QVERIFY(!noFlags->hasDetection() || noFlags->messages().empty());
        map.setData(noFlags);
        QCOMPARE(map.tiles().size(), int(noFlags->units().size()));
        QCOMPARE(map.note(), QStringLiteral("No flagged mail \u2014 run detection"));
        for (UnitTileItem* t : map.tiles()) QVERIFY(t->badgeText().isEmpty());
        QVERIFY(map.linkItems().isEmpty());

        // No org chart: everybody in Unassigned, one tile; its badge counts what the worm sent inside.
        auto noOrg = std::make_shared<OrgMapData>();
        QVERIFY(noOrg->load(m_noOrg));
        QCOMPARE(int(noOrg->units().size()), 1);
        QCOMPARE(noOrg->units()[0].path, QStringLiteral("Unassigned"));
        map.setData(noOrg);
        QCOMPARE(map.tiles().size(), 1);
        QVERIFY(!map.tiles()[0]->badgeText().isEmpty());
        QVERIFY(map.linkItems().isEmpty()); // all within one unit

        QString err;
        OrgMapData bad;
        QVERIFY(!bad.load(m_dir.filePath(QStringLiteral("missing.mtcase")), &err));
        QVERIFY(err.contains(QStringLiteral("no such case file")));
    }

    void asyncOpenAndTooltips() {
        OrgMapPanel panel;
        QSignalSpy loaded(&panel, &OrgMapPanel::loaded);
        panel.openCaseAsync(m_demo);
        QVERIFY(loaded.wait(60000));
        QCOMPARE(loaded.at(0).at(0).toBool(), true);
        QVERIFY(panel.data());
        QCOMPARE(panel.map()->tiles().size(), int(panel.data()->units().size()));
        // The tooltip of the busiest team names its numbers and its busiest user.
        const int leaf = leafWithMostFlagged(*panel.map());
        const QString tip = panel.map()->unitTooltip(leaf);
        const UnitCounts& c = panel.map()->shownCounts()[leaf];
        QVERIFY2(tip.contains(QStringLiteral("flagged: %1 sent, %2 received").arg(c.sent).arg(c.received)), qPrintable(tip));
        QVERIFY(tip.contains(panel.data()->users()[panel.map()->topUsers(leaf, 1)[0]].email));
        QVERIFY(tip.contains(QStringLiteral("script")));
        // A bad path: reported, the previous case stays.
        panel.openCaseAsync(m_dir.filePath(QStringLiteral("missing.mtcase")));
        QVERIFY(loaded.wait(60000));
        QCOMPARE(loaded.at(1).at(0).toBool(), false);
        QVERIFY(loaded.at(1).at(1).toString().contains(QStringLiteral("no such case file")));
        QVERIFY(panel.data());
    }

    void recallBadgesOnlyWhenNonZero() {
        auto d = std::make_shared<OrgMapData>();
        QVERIFY(d->load(m_demo));
        OrgMapView map;
        map.resize(800, 600);
        map.setData(d);
        QHash<qint64, RecallCounts> r;
        r.insert(d->units()[0].id, RecallCounts{3, 1, 0});
        r.insert(d->units()[1].id, RecallCounts{});
        map.setRecallCounts(r);
        QCOMPARE(map.recallCounts(0).suspended, 3);
        QVERIFY(map.recallCounts(1).isEmpty());
        QVERIFY(map.recallCounts(2).isEmpty());
    }

    void screenshots() {
        const QString dir = qEnvironmentVariable("MT_SCREENSHOT_DIR");
        const QString out = dir.isEmpty() ? m_dir.path() : dir;
        QString err;
        const QString demoPng = out + QStringLiteral("/org-map.png");
        QVERIFY2(renderOrgMapScreenshot(m_demo, demoPng, QSize(1400, 900), &err), qPrintable(err));
        QImage img(demoPng);
        QVERIFY(!img.isNull());
        QCOMPARE(img.size(), QSize(1400, 900) * qApp->devicePixelRatio()); // saved at the screen's pixel ratio
        QVERIFY2(renderOrgMapScreenshot(m_empty, out + QStringLiteral("/org-map-empty.png"), QSize(1000, 700), &err), qPrintable(err));
        QVERIFY2(renderOrgMapScreenshot(m_noFlags, out + QStringLiteral("/org-map-no-flagged.png"), QSize(1400, 900), &err), qPrintable(err));
        QVERIFY(!renderOrgMapScreenshot(m_dir.filePath("missing.mtcase"), out + QStringLiteral("/x.png"), QSize(100, 100), &err));
        // Mid-outbreak: the playback cursor a third of the way in, recent senders lit.
        OrgMapPanel panel;
        panel.setAttribute(Qt::WA_DontShowOnScreen);
        panel.resize(1400, 900);
        panel.show();
        QVERIFY(panel.openCase(m_demo));
        const auto d = panel.data();
        panel.playbackBar()->setCursor(d->messages()[d->messages().size() / 3].time);
        int lit = 0;
        for (const UnitCounts& c : panel.map()->shownCounts()) lit += c.recent > 0;
        QVERIFY(lit > 0);
        QApplication::processEvents();
        QVERIFY(panel.grab().save(out + QStringLiteral("/org-map-playback.png")));
    }
};

QTEST_MAIN(TestOrgMap)
#include "tst_gui_orgmap.moc"
