#include "AllowList.h"

#include "model/detection/Detector.h"

#include <algorithm>

namespace mt::recall {

AllowKey allowKey(std::string_view sender, std::string_view subject, const std::vector<std::string>& attachments) {
    AllowKey k;
    k.sender.assign(sender);
    for (char& c : k.sender)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    k.subject = det::normaliseSubject(subject);
    std::vector<std::string> names;
    for (const std::string& a : attachments) names.push_back(det::normaliseName(a));
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    for (std::size_t i = 0; i < names.size(); ++i) k.attachments += (i ? "|" : "") + names[i];
    return k;
}

std::set<AllowKey> loadAllowEntries(SqliteDb& db) {
    std::set<AllowKey> out;
    if (db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'allow_entries'") == 0) return out;
    SqliteStmt st = db.prepare("SELECT sender, subject_norm, attachments_norm FROM allow_entries");
    while (st.step()) out.insert({st.text(0), st.text(1), st.text(2)});
    return out;
}

std::int64_t allowEntriesChangedAt(SqliteDb& db) {
    if (db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'allow_entries'") == 0) return 0;
    return db.scalar("SELECT coalesce(max(created_at), 0) FROM allow_entries");
}

} // namespace mt::recall
