#pragma once
// Verdicts and the cascade. Virus: delete what was confirmed suspended (and nothing else),
// then for each copy the recipient had already retrieved, find what that recipient sent
// afterwards that belongs to the campaign (the propagation graph: edges and parent links, and
// the recipient's later campaign messages) and propose it as the next recall round. Repeating
// recall + verdict goes generation by generation until a round proposes nothing. Not a virus:
// release everything suspended and record allow entries that detection respects.
#include "RecallPlan.h"
#include "RecallRun.h"

namespace mt::recall {

enum class VerdictKind { Virus, Clean };

struct VerdictOptions {
    VerdictKind kind = VerdictKind::Virus;
    std::string analyst;
    std::int64_t campaignId = 0;                // the campaign judged (by its current id), or
    std::vector<std::int64_t> messageIds;       // these messages (campaignId 0)
    CampaignExclusions exclude;                 // with campaignId: what the verdict leaves out (RecallPlan.h)
    std::function<void(const RunProgress&)> progress;
    const std::atomic_bool* cancel = nullptr;
    std::shared_ptr<DemoWorld> demo;
};

struct CascadeReport {
    std::int64_t retrieved = 0;                 // already-retrieved copies followed
    std::int64_t sentOn = 0;                    // distinct campaign messages they sent on
    std::vector<std::int64_t> proposedIds;      // the next round's new requests
    int nextRound = 0;                          // its round number (0: nothing proposed)
};

struct VerdictReport {
    std::int64_t verdictId = 0;
    std::string campaignLabel;
    std::int64_t messages = 0;
    std::int64_t excluded = 0;                  // campaign messages left out (CampaignExclusions)
    RunReport run;                              // the deletes or releases
    CascadeReport cascade;                      // virus only
    std::int64_t allowEntries = 0;              // clean only: new entries
};

// Throws std::invalid_argument on a bad selection (no such campaign, no analyst).
VerdictReport applyVerdict(SqliteDb& db, const ServerDirectory& dir, const VerdictOptions& options);

// The cascade step alone: follows the given already-retrieved requests (all of them when
// empty) and proposes the next round; marks them 'cascaded'.
CascadeReport cascade(SqliteDb& db, const ServerDirectory& dir, const std::string& analyst,
                      const std::vector<std::int64_t>& requestIds = {});

} // namespace mt::recall
