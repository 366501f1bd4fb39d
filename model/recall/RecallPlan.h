#pragma once
// Planning a recall: for the selected messages, every recipient's copy and the server that
// holds it (from the case's final deliveries), the connector that can reach it, and which
// copies cannot be recalled (external recipients, bounced mail, servers without a connector).
// The plan is stored as 'proposed' requests; approving records the approver's name.
#include "RecallStore.h"
#include "ServerDirectory.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mt::recall {

struct ServerPlan {
    std::string server;
    std::string connector;                   // "" when none
    std::int64_t copies = 0, recallable = 0, notRecallable = 0, inMailboxes = 0, inQueue = 0;
    std::vector<std::string> recipients;     // distinct, sorted
};

struct Plan {
    std::vector<std::int64_t> requestIds;    // every request of the plan (new or already known)
    std::vector<std::int64_t> proposedIds;   // those now waiting for approval
    std::map<std::string, ServerPlan> servers;
    std::int64_t messages = 0, copies = 0, recallable = 0, notRecallable = 0, alreadyKnown = 0;
};

// The messages of a campaign (campaign_messages), in time order. Empty when there is no such
// campaign; `label` gets its label.
std::vector<std::int64_t> campaignMessages(SqliteDb& db, std::int64_t campaignId, std::string* label = nullptr);
// What a verdict on a campaign leaves out: branches of its propagation tree (each message
// named and everything below it), and, when asked, the messages that only joined through a
// link (received and sent on, or the same burst) rather than on their own evidence.
struct CampaignExclusions {
    std::vector<std::int64_t> branchRoots;   // messages.id
    bool joinedByLink = false;
};
// `messages` (a campaign's) without the excluded ones; `excluded` gets how many were left out.
std::vector<std::int64_t> withoutExcluded(SqliteDb& db, std::int64_t campaignId, const std::vector<std::int64_t>& messages,
                                          const CampaignExclusions& ex, std::int64_t* excluded = nullptr);
// messages.id of Message-IDs (with or without angle brackets); unknown ones go to `unknown`.
std::vector<std::int64_t> messagesByMessageId(SqliteDb& db, const std::vector<std::string>& messageIds,
                                              std::vector<std::string>* unknown);

// Where each recipient's copy of each message is, as planned copies (not stored).
std::vector<PlannedCopy> planCopies(SqliteDb& db, const ServerDirectory& dir, const std::vector<std::int64_t>& messageIds,
                                    int round = 0, std::int64_t parentRequestId = 0);
// Plans and stores the requests (one transaction).
Plan buildPlan(SqliteDb& db, const ServerDirectory& dir, const std::vector<std::int64_t>& messageIds,
               const std::string& analyst, int round = 0, std::int64_t parentRequestId = 0);
// Approves proposed requests (one transaction); returns how many moved to 'approved'.
std::int64_t approveRequests(RecallStore& store, const std::vector<std::int64_t>& ids, const std::string& analyst);

} // namespace mt::recall
