#include "TimelineData.h"

#include "ReadOnlyCase.h"

#include <QHash>

#include <algorithm>

namespace mt {

namespace {

constexpr qint64 kMinute = 60'000;
constexpr qint64 kSteps[] = {kMinute,          5 * kMinute,       15 * kMinute,       30 * kMinute,
                             60 * kMinute,     3 * 60 * kMinute,  6 * 60 * kMinute,   12 * 60 * kMinute,
                             24 * 60 * kMinute, 7 * 24 * 60 * kMinute};

qint64 floorDiv(qint64 a, qint64 b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

QString fromUtf8(const std::string& s) { return QString::fromUtf8(s.data(), qsizetype(s.size())); }

} // namespace

qint64 chooseBucketMs(qint64 spanMs, int maxBuckets) {
    maxBuckets = std::max(1, maxBuckets);
    spanMs = std::max<qint64>(0, spanMs);
    // +1: a span of exactly n steps touches n + 1 buckets when it starts on a boundary.
    for (qint64 step : kSteps)
        if (spanMs / step + 1 <= maxBuckets) return step;
    const qint64 week = kSteps[std::size(kSteps) - 1];
    const qint64 weeks = spanMs / week / maxBuckets + 1;
    return weeks * week;
}

int TimelineData::bucketOf(qint64 t) const {
    if (all.isEmpty() || t < start) return -1;
    const qint64 i = (t - start) / bucketMs;
    return i < all.size() ? int(i) : -1;
}

QString TimelineData::bucketLabel() const {
    const qint64 minutes = bucketMs / kMinute;
    if (minutes <= 1) return QStringLiteral("per minute");
    if (minutes < 60) return QStringLiteral("per %1 minutes").arg(minutes);
    if (minutes == 60) return QStringLiteral("per hour");
    if (minutes < 24 * 60) return QStringLiteral("per %1 hours").arg(minutes / 60);
    if (minutes == 24 * 60) return QStringLiteral("per day");
    if (minutes == 7 * 24 * 60) return QStringLiteral("per week");
    return QStringLiteral("per %1 days").arg(minutes / (24 * 60));
}

const TimelineCampaign* TimelineData::campaign(qint64 id) const {
    for (const TimelineCampaign& c : campaigns)
        if (c.id == id) return &c;
    return nullptr;
}

TimelineData loadTimeline(const QString& casePath, const TimelineOptions& options) {
    TimelineData d;
    d.campaignFilter = options.campaignId;
    ReadOnlyCase db;
    if (!db.open(casePath)) {
        d.error = db.error();
        return d;
    }
    try {
        {
            // Two statements: SQLite answers a lone min() or max() from the index's ends.
            SqliteStmt lo = db.prepare("SELECT min(time) FROM messages");
            SqliteStmt hi = db.prepare("SELECT max(time) FROM messages");
            if (!lo.step() || lo.isNull(0) || !hi.step()) {
                d.ok = true;
                d.hasDetection = db.hasDetection();
                return d;   // no messages: an empty timeline
            }
            d.firstMessage = lo.int64(0);
            d.lastMessage = hi.int64(0);
        }
        d.bucketMs = chooseBucketMs(d.lastMessage - d.firstMessage, options.maxBuckets);
        d.start = floorDiv(d.firstMessage, d.bucketMs) * d.bucketMs;
        const int n = int(floorDiv(d.lastMessage, d.bucketMs) - floorDiv(d.firstMessage, d.bucketMs) + 1);
        d.all.fill(0, n);
        d.flagged.fill(0, n);

        // One pass over the time index (covering: the table itself is never read); a GROUP BY
        // on time / step would sort a million keys in a temporary b-tree instead.
        SqliteStmt times = db.prepare("SELECT time FROM messages ORDER BY time");
        const qint64 start = d.start, step = d.bucketMs;
        int* all = d.all.data();
        qint64 total = 0;
        while (times.step()) {
            ++all[(times.int64(0) - start) / step];
            ++total;
        }
        d.totalMessages = total;

        d.hasDetection = db.hasDetection();
        if (!d.hasDetection) {
            d.ok = true;
            return d;
        }

        QHash<qint64, int> index;
        {
            SqliteStmt c = db.prepare("SELECT id, label, patient_zero, first_seen, detected_at, messages FROM campaigns "
                                      "WHERE ?1 = 0 OR id = ?1 ORDER BY id");
            c.bind(1, std::int64_t(options.campaignId));
            while (c.step()) {
                TimelineCampaign tc;
                tc.id = c.int64(0);
                tc.label = fromUtf8(c.text(1));
                tc.patientZero = fromUtf8(c.text(2));
                tc.firstSeen = c.int64(3);
                tc.detectedAt = c.isNull(4) ? 0 : c.int64(4);
                tc.messages = int(c.int64(5));
                tc.flagged.fill(0, n);
                index.insert(tc.id, d.campaigns.size());
                d.campaigns.push_back(std::move(tc));
            }
        }
        SqliteStmt f = db.prepare("SELECT m.time, cm.campaign_id FROM campaign_messages cm JOIN messages m ON m.id = cm.message_id "
                                  "WHERE ?1 = 0 OR cm.campaign_id = ?1");
        f.bind(1, std::int64_t(options.campaignId));
        while (f.step()) {
            const int b = d.bucketOf(f.int64(0));
            if (b < 0) continue;   // cannot happen: every message is inside [first, last]
            ++d.flagged[b];
            ++d.totalFlagged;
            const auto it = index.constFind(f.int64(1));
            if (it != index.constEnd()) ++d.campaigns[*it].flagged[b];
        }
        d.ok = true;
    } catch (const SqliteError& e) {
        d = TimelineData{};
        d.campaignFilter = options.campaignId;
        d.error = QStringLiteral("cannot read the timeline of %1: %2").arg(casePath, QString::fromUtf8(e.what()));
    }
    return d;
}

} // namespace mt
