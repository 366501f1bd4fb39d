#pragma once
// Allow entries: what an analyst judged "not a virus" (a clean verdict). Detection skips a
// message whose fingerprint - envelope sender, normalised subject, normalised attachment names
// - matches an entry, so the same false positive is not flagged again.
#include "model/SqliteDb.h"

#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace mt::recall {

struct AllowKey {
    std::string sender;      // lower case
    std::string subject;     // det::normaliseSubject
    std::string attachments; // det::normaliseName of each, sorted, joined by '|'
    bool operator<(const AllowKey& o) const {
        return std::tie(sender, subject, attachments) < std::tie(o.sender, o.subject, o.attachments);
    }
};

AllowKey allowKey(std::string_view sender, std::string_view subject, const std::vector<std::string>& attachments);
// The case's allow entries (empty when the table does not exist yet).
std::set<AllowKey> loadAllowEntries(SqliteDb& db);
// The newest entry's creation time (0: none).
std::int64_t allowEntriesChangedAt(SqliteDb& db);

} // namespace mt::recall
