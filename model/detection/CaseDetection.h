#pragma once
// Detection over a case file: loads the messages in a few ordered scans into the engine's
// arrays, runs the Detector, and writes hits, campaigns and the propagation graph back in one
// transaction (a re-run replaces the previous results atomically). The rule set lives in the
// case (table `rulesets`).
#include "Detector.h"

#include "model/CaseStore.h"

#include <QString>

namespace mt::det {

struct CaseDetectionReport {
    std::int64_t messages = 0;        // in the case
    std::int64_t processed = 0;       // judged by this run (fewer when incremental)
    std::int64_t flagged = 0;         // in campaigns after this run
    int campaigns = 0;
    bool incremental = false;
    bool upToDate = false;            // nothing new since the last run with the same rules
    std::int64_t loadMs = 0, detectMs = 0, writeMs = 0;
};

// What a message-level load reads; filled from the case by loadCase.
struct LoadOptions {
    TimeMs from = INT64_MIN;          // messages at or after this time
    std::vector<std::int64_t> extraIds; // and these, whatever their time (earlier flagged messages)
};
void loadCase(SqliteDb& db, DetectionInput& in, const LoadOptions& options = {});

class CaseDetection {
public:
    // The rule set stored in the case (the latest), else the defaults.
    static RuleSet ruleSet(CaseStore& store);
    static QByteArray ruleSetJson(CaseStore& store);
    // Stores rules as the case's rule set (a new row when it differs from the latest).
    static void storeRuleSet(CaseStore& store, const RuleSet& rules);
    // Runs the case's rule set over the case. With allowIncremental, when the last run used the
    // same rules and the case only gained later messages since, only the tail is judged (the
    // longest window of history is replayed to restore the windows).
    static CaseDetectionReport run(CaseStore& store, bool allowIncremental = true);
};

} // namespace mt::det
