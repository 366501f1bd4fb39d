#pragma once
// What the timeline draws (issue 5): messages per time bucket, all of them and the flagged
// ones, the flagged ones per campaign, and each campaign's first sighting and detection moment.
// Read straight from the case file on a connection of its own (any thread may call
// loadTimeline; views get the result as a plain value).
//
// Buckets are whole minutes while that gives at most TimelineOptions::maxBuckets of them; a
// longer case gets the next coarser step (5, 15, 30 minutes, 1, 3, 6, 12 hours, a day, a
// week) so that the chart stays readable and cheap. Buckets are aligned to multiples of the
// step since the epoch (UTC), so the same message falls into the same bucket whatever the
// range of the case.
#include <QString>
#include <QVector>

namespace mt {

struct TimelineCampaign {
    qint64 id = 0;
    QString label;
    QString patientZero;
    qint64 firstSeen = 0;       // ms since epoch UTC
    qint64 detectedAt = 0;      // 0: the rules never fired on it
    int messages = 0;           // campaign_messages rows (the sum of flagged)
    QVector<int> flagged;       // per bucket, same length as TimelineData::all
};

struct TimelineData {
    bool ok = false;            // false: error says why (no case, not a case file, ...)
    QString error;
    bool hasDetection = false;  // detection ran on the case (else only `all` is meaningful)
    qint64 campaignFilter = 0;  // the campaign the flagged series were restricted to, 0: all

    qint64 bucketMs = 60000;    // the step
    qint64 start = 0;           // start of bucket 0, ms since epoch UTC
    QVector<int> all;           // messages per bucket
    QVector<int> flagged;       // flagged messages per bucket (of campaignFilter when set)
    QVector<TimelineCampaign> campaigns; // one per campaign (only campaignFilter's when set)

    qint64 totalMessages = 0;
    qint64 totalFlagged = 0;    // flagged messages counted in `flagged`
    qint64 firstMessage = 0, lastMessage = 0; // ms since epoch UTC, 0 when there are none

    int bucketCount() const { return all.size(); }
    bool isEmpty() const { return all.isEmpty(); }
    qint64 bucketStart(int i) const { return start + qint64(i) * bucketMs; }
    qint64 end() const { return bucketStart(bucketCount()); }
    // The bucket holding time t, -1 outside [start, end()).
    int bucketOf(qint64 t) const;
    // Human text for the step: "per minute", "per 5 minutes", "per hour", "per day" ...
    QString bucketLabel() const;
    const TimelineCampaign* campaign(qint64 id) const;
};

struct TimelineOptions {
    qint64 campaignId = 0;      // restrict flagged and per-campaign series to this campaign
    int maxBuckets = 3000;      // the cap that makes the step coarser
};

// The step for a span of spanMs: the finest of minute, 5, 15, 30 min, 1, 3, 6, 12 h, 1 day,
// 1 week that gives at most maxBuckets buckets (beyond a week per bucket: whole weeks).
qint64 chooseBucketMs(qint64 spanMs, int maxBuckets);

// Reads the case at casePath. Never throws; a failure comes back as ok == false with error.
TimelineData loadTimeline(const QString& casePath, const TimelineOptions& options = {});

} // namespace mt
