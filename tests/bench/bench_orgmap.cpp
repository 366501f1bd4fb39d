// Org map speed (label bench): a synthetic case with 2,000 units in three levels, 50,000 users
// and about 100,000 flagged messages (three recipients each) written straight into a case
// file, then:
//   map open   = load (OrgMapData) + layout + scene + counts + links + first paint, target < 1 s
//   frames     = the viewport rendered after each pan / zoom step (fitted, mid and deep zoom),
//                median and p95, target < 16 ms
//   playback   = one step of the time cursor (recount + links + paint)
//   peak RSS   = VmHWM, target < 500 MB
//
//   bench_orgmap [--units N] [--users N] [--messages N] [--keep FILE]
//   MT_BENCH_ENFORCE=1: exit 1 when a target is missed.
#include "model/CaseStore.h"
#include "model/SqliteDb.h"
#include "model/orgmap/OrgMapData.h"
#include "views/orgmap/OrgMapView.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QPainter>
#include <QRandomGenerator>
#include <QScrollBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTextStream>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

using namespace mt;

namespace {

QString value(const QStringList& args, const QString& name, const QString& fallback) {
    const qsizetype i = args.indexOf(name);
    return i >= 0 && i + 1 < args.size() ? args[i + 1] : fallback;
}

long vmHwmMb() {
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly)) return -1;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmHWM:")) return line.mid(6).trimmed().split(' ').value(0).toLong() / 1024;
    return -1;
}

struct Stats {
    double median = 0, p95 = 0, max = 0;
};
Stats stats(std::vector<double> v) {
    Stats s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.median = v[v.size() / 2];
    s.p95 = v[std::min(v.size() - 1, static_cast<std::size_t>(v.size() * 0.95))];
    s.max = v.back();
    return s;
}

// Three levels: divisions, departments, teams; users in teams; flagged messages from random
// senders to three random colleagues, spread over eight hours, in five campaigns.
void buildCase(const QString& path, int unitCount, int userCount, int messageCount) {
    {
        CaseStore store;
        store.open(path, true); // the schema
    }
    SqliteDb db;
    db.open(path.toStdString(), false);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; BEGIN");
    QRandomGenerator rng(20261126);
    const int divisions = std::max(1, unitCount / 100);
    const int departments = std::max(divisions, unitCount / 10);
    std::vector<std::int64_t> teams;
    {
        SqliteStmt ins = db.prepare("INSERT INTO units(id, parent_id, name, path) VALUES(?, ?, ?, ?)");
        std::vector<std::string> paths(unitCount + 1);
        int id = 0;
        auto add = [&](std::int64_t parent, const std::string& name) {
            ++id;
            paths[id] = parent ? paths[parent] + "/" + name : name;
            ins.bind(1, std::int64_t(id));
            if (parent) ins.bind(2, parent); else ins.bindNull(2);
            ins.bind(3, std::string_view(name));
            ins.bind(4, std::string_view(paths[id]));
            ins.exec();
            return std::int64_t(id);
        };
        std::vector<std::int64_t> divIds, depIds;
        for (int d = 0; d < divisions; ++d) divIds.push_back(add(0, "Division " + std::to_string(d + 1)));
        for (int d = 0; d < departments - divisions; ++d) depIds.push_back(add(divIds[d % divIds.size()], "Department " + std::to_string(d + 1)));
        for (int t = 0; id < unitCount; ++t) teams.push_back(add(depIds[t % depIds.size()], "Team " + std::to_string(t + 1)));
    }
    std::vector<std::string> emails(userCount);
    {
        SqliteStmt ins = db.prepare("INSERT INTO users(email, name, unit_id, source) VALUES(?, ?, ?, 'org')");
        for (int u = 0; u < userCount; ++u) {
            emails[u] = "user" + std::to_string(u) + "@corp.example";
            const std::string name = "User " + std::to_string(u);
            ins.bind(1, std::string_view(emails[u]));
            ins.bind(2, std::string_view(name));
            // Uneven team sizes: a skewed pick.
            const double x = rng.generateDouble();
            ins.bind(3, teams[static_cast<std::size_t>(x * x * teams.size()) % teams.size()]);
            ins.exec();
        }
    }
    db.exec("INSERT INTO servers(id, name) VALUES(1, 'mx1')");
    {
        SqliteStmt camp = db.prepare("INSERT INTO campaigns(id, label, messages) VALUES(?, ?, 0)");
        for (int c = 1; c <= 5; ++c) {
            const std::string label = "campaign " + std::to_string(c);
            camp.bind(1, std::int64_t(c)).bind(2, std::string_view(label)).exec();
        }
    }
    const char* const attachments[] = {"LOVE-LETTER-FOR-YOU.TXT.vbs", "invoice.pdf.exe", "report.docm", "photos.zip", "notes.txt"};
    SqliteStmt msg = db.prepare("INSERT INTO messages(id, msg_key, time, sender, origin_server_id) VALUES(?, ?, ?, ?, 1)");
    SqliteStmt copy = db.prepare("INSERT INTO copies(id, message_id, server_id, queue_id, first_seen) VALUES(?, ?, 1, ?, ?)");
    SqliteStmt dlv = db.prepare("INSERT INTO deliveries(copy_id, recipient, status, is_final, time) VALUES(?, ?, 'sent', 1, ?)");
    SqliteStmt cm = db.prepare("INSERT INTO campaign_messages(message_id, campaign_id, source) VALUES(?, ?, 'rules')");
    SqliteStmt att = db.prepare("INSERT INTO attachments(message_id, name) VALUES(?, ?)");
    const std::int64_t t0 = 1795500000000;
    for (int m = 1; m <= messageCount; ++m) {
        const std::string key = "m" + std::to_string(m) + "@bench";
        const std::int64_t time = t0 + std::int64_t(m) * 8 * 3600 * 1000 / messageCount;
        const int sender = rng.bounded(userCount);
        msg.bind(1, std::int64_t(m)).bind(2, std::string_view(key)).bind(3, time).bind(4, std::string_view(emails[sender])).exec();
        const std::string qid = "Q" + std::to_string(m);
        copy.bind(1, std::int64_t(m)).bind(2, std::int64_t(m)).bind(3, std::string_view(qid)).bind(4, time).exec();
        for (int r = 0; r < 3; ++r) {
            // Colleagues nearby (same neighbourhood of the user list) most of the time.
            const int to = rng.bounded(4) ? (sender + 1 + rng.bounded(200)) % userCount : rng.bounded(userCount);
            dlv.bind(1, std::int64_t(m)).bind(2, std::string_view(emails[to])).bind(3, time + 1000);
            if (sqlite3_step(dlv.handle()) != SQLITE_DONE && sqlite3_errcode(db.handle()) != SQLITE_CONSTRAINT_UNIQUE) dlv.reset();
            dlv.reset();
        }
        const int campaign = 1 + rng.bounded(5);
        cm.bind(1, std::int64_t(m)).bind(2, std::int64_t(campaign)).exec();
        att.bind(1, std::int64_t(m)).bind(2, std::string_view(attachments[campaign - 1])).exec();
    }
    db.exec("COMMIT");
}

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const QStringList args = app.arguments();
    QTextStream out(stdout);
    const int units = value(args, QStringLiteral("--units"), QStringLiteral("2000")).toInt();
    const int users = value(args, QStringLiteral("--users"), QStringLiteral("50000")).toInt();
    const int messages = value(args, QStringLiteral("--messages"), QStringLiteral("100000")).toInt();
    QTemporaryDir tmp;
    const QString keep = value(args, QStringLiteral("--keep"), QString());
    const QString path = keep.isEmpty() ? tmp.filePath(QStringLiteral("orgmap.mtcase")) : keep;

    QElapsedTimer t;
    if (!QFile::exists(path)) {
        t.start();
        buildCase(path, units, users, messages);
        out << QStringLiteral("synthetic case: %1 units, %2 users, %3 flagged messages in %4 s\n")
                   .arg(units).arg(users).arg(messages).arg(t.elapsed() / 1000.0, 0, 'f', 1);
        out.flush();
    }

    OrgMapView view;
    view.resize(1400, 900);
    view.show();
    QApplication::processEvents();
    QImage frame(view.viewport()->size(), QImage::Format_ARGB32_Premultiplied);
    auto paint = [&] {
        QPainter p(&frame);
        view.viewport()->render(&p);
    };

    // Map open.
    t.start();
    auto data = std::make_shared<OrgMapData>();
    QString err;
    if (!data->load(path, &err)) {
        out << "load failed: " << err << "\n";
        return 2;
    }
    const qint64 loadMs = t.elapsed();
    if (qEnvironmentVariableIsSet("MT_BENCH_MAX_LINKS")) view.setMaxLinks(qEnvironmentVariableIntValue("MT_BENCH_MAX_LINKS"));
    view.setData(data);
    const qint64 sceneMs = t.elapsed() - loadMs;
    paint();
    const qint64 openMs = t.elapsed();
    out << QStringLiteral("loaded: %1 units, %2 users, %3 flagged messages, %4 internal recipients; %5 links drawn of %6\n")
               .arg(data->units().size()).arg(data->users().size()).arg(data->messages().size()).arg(data->recipients().size())
               .arg(view.linkItems().size()).arg(view.linkTotal());
    out << QStringLiteral("map open: %1 ms (load %2 ms, layout + scene + counts + links %3 ms, first paint %4 ms); target < 1000 ms\n")
               .arg(openMs).arg(loadMs).arg(sceneMs).arg(openMs - loadMs - sceneMs);

    // Pan and zoom frames at three zoom levels.
    std::vector<double> all;
    auto frames = [&](const QString& label, double zoom) {
        view.fitAll();
        view.scale(zoom, zoom);
        std::vector<double> ms;
        QElapsedTimer f;
        for (int i = 0; i < 40; ++i) {
            f.start();
            if (i % 4 == 3) {
                view.zoomBy((i % 8 == 3) ? 1.1 : 1 / 1.1);
            } else {
                QScrollBar* h = view.horizontalScrollBar();
                QScrollBar* v = view.verticalScrollBar();
                h->setValue(h->minimum() + (h->maximum() - h->minimum()) * ((i * 7) % 40) / 40);
                v->setValue(v->minimum() + (v->maximum() - v->minimum()) * ((i * 13) % 40) / 40);
            }
            paint();
            ms.push_back(f.nsecsElapsed() / 1e6);
        }
        const Stats s = stats(ms);
        all.insert(all.end(), ms.begin(), ms.end());
        out << QStringLiteral("frames %1: median %2 ms, p95 %3 ms, max %4 ms\n").arg(label).arg(s.median, 0, 'f', 2).arg(s.p95, 0, 'f', 2).arg(s.max, 0, 'f', 2);
    };
    // A frame at rest (links antialiased) after the map stopped moving.
    view.fitAll();
    QTest::qWait(200);
    QElapsedTimer rest;
    rest.start();
    paint();
    out << QStringLiteral("frame at rest, fitted (links smoothed): %1 ms\n").arg(rest.nsecsElapsed() / 1e6, 0, 'f', 2);
    frames(QStringLiteral("fitted (whole map)"), 1.0);
    frames(QStringLiteral("zoom x6 (departments)"), 6.0);
    frames(QStringLiteral("zoom x40 (team user lists)"), 40.0);
    const Stats total = stats(all);
    out << QStringLiteral("frames overall: median %1 ms, p95 %2 ms; target < 16 ms\n").arg(total.median, 0, 'f', 2).arg(total.p95, 0, 'f', 2);

    // Playback steps.
    view.fitAll();
    std::vector<double> steps;
    QElapsedTimer f;
    for (int i = 1; i <= 20; ++i) {
        f.start();
        view.setTimeCursor(data->firstTime() + (data->lastTime() - data->firstTime()) * i / 20);
        paint();
        steps.push_back(f.nsecsElapsed() / 1e6);
    }
    const Stats ps = stats(steps);
    out << QStringLiteral("playback step (recount + links + paint): median %1 ms, p95 %2 ms\n").arg(ps.median, 0, 'f', 1).arg(ps.p95, 0, 'f', 1);
    const long rss = vmHwmMb();
    out << QStringLiteral("peak RSS (VmHWM): %1 MB; target < 500 MB\n").arg(rss);
    out.flush();

    const bool ok = openMs < 1000 && total.median < 16 && total.p95 < 16 && rss < 500;
    if (!ok) out << "bench_orgmap: a target was missed\n";
    return qEnvironmentVariableIntValue("MT_BENCH_ENFORCE") && !ok ? 1 : 0;
}
