#include "OrgMapData.h"

#include "model/CaseStore.h"
#include "model/SqliteDb.h"
#include "model/detection/Rules.h"

#include <QFile>
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace mt {

QString typeFamilyName(TypeFamily f) {
    switch (f) {
    case TypeFamily::Script: return QStringLiteral("script");
    case TypeFamily::Executable: return QStringLiteral("executable");
    case TypeFamily::Macro: return QStringLiteral("macro document");
    case TypeFamily::Archive: return QStringLiteral("archive");
    case TypeFamily::DoubleExtension: return QStringLiteral("double extension");
    case TypeFamily::OtherAttachment: return QStringLiteral("other attachment");
    case TypeFamily::NoAttachment: return QStringLiteral("no attachment");
    case TypeFamily::Count: break;
    }
    return {};
}

QString typeFamiliesText(std::uint32_t bits) {
    QStringList parts;
    for (int i = 0; i < kTypeFamilyCount; ++i)
        if (bits & (1u << i)) parts << typeFamilyName(static_cast<TypeFamily>(i));
    return parts.join(QStringLiteral(", "));
}

namespace {

QString qs(const SqliteStmt& s, int col) {
    const unsigned char* t = sqlite3_column_text(s.handle(), col);
    if (!t) return {};
    return QString::fromUtf8(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s.handle(), col));
}

bool tableExists(SqliteDb& db, const char* name) {
    SqliteStmt q = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?");
    q.bind(1, std::string_view(name));
    return q.step();
}

// Attachment names to type families, with the extension lists detection uses.
class TypeClassifier {
public:
    explicit TypeClassifier(const det::TypeRule& r) {
        auto fill = [](std::unordered_set<std::string>& s, const std::vector<std::string>& v) {
            for (const std::string& e : v) s.insert(e);
        };
        fill(m_exe, r.executable);
        fill(m_script, r.script);
        fill(m_macro, r.macro);
        fill(m_archive, r.archive);
        fill(m_decoy, r.decoy);
    }
    std::uint32_t classify(QString name) const {
        name = name.trimmed().toLower();
        while (name.endsWith(QLatin1Char('.'))) name.chop(1);
        const qsizetype dot = name.lastIndexOf(QLatin1Char('.'));
        if (dot < 0) return typeBit(TypeFamily::OtherAttachment);
        const std::string last = name.mid(dot + 1).toStdString();
        const QString before = name.left(dot).trimmed();
        const qsizetype dot2 = before.lastIndexOf(QLatin1Char('.'));
        const std::string prev = dot2 < 0 ? std::string() : before.mid(dot2 + 1).toStdString();
        std::uint32_t bits = 0;
        if (m_exe.count(last)) bits |= typeBit(TypeFamily::Executable);
        else if (m_script.count(last)) bits |= typeBit(TypeFamily::Script);
        if (bits && !prev.empty() && m_decoy.count(prev)) bits |= typeBit(TypeFamily::DoubleExtension);
        if (!bits && m_macro.count(last)) bits |= typeBit(TypeFamily::Macro);
        if (!bits && m_archive.count(last)) bits |= typeBit(TypeFamily::Archive);
        return bits ? bits : typeBit(TypeFamily::OtherAttachment);
    }

private:
    std::unordered_set<std::string> m_exe, m_script, m_macro, m_archive, m_decoy;
};

} // namespace

bool OrgMapData::load(const QString& casePath, QString* error) {
    *this = OrgMapData();
    auto fail = [&](const QString& why) {
        if (error) *error = why;
        *this = OrgMapData();
        return false;
    };
    if (!QFile::exists(casePath)) return fail(QStringLiteral("no such case file: %1").arg(casePath));
    try {
        SqliteDb db;
        db.open(casePath.toStdString(), false);
        const std::int64_t version = db.scalar("PRAGMA user_version");
        if (version < 1 || version > CaseStore::kSchemaVersion)
            return fail(QStringLiteral("%1 is not a MailTriage case file this build can read (schema %2)").arg(casePath).arg(version));
        // One read transaction: a consistent snapshot while an import may be writing.
        db.exec("BEGIN");

        // Units.
        std::vector<qint64> parentIds;
        {
            SqliteStmt q = db.prepare("SELECT id, parent_id, name, path FROM units ORDER BY path");
            while (q.step()) {
                OrgUnit u;
                u.id = q.int64(0);
                u.name = qs(q, 2);
                u.path = qs(q, 3);
                parentIds.push_back(q.isNull(1) ? 0 : q.int64(1));
                m_unitIndex.insert(u.id, static_cast<int>(m_units.size()));
                m_units.push_back(std::move(u));
            }
        }
        int unassigned = -1;
        for (std::size_t i = 0; i < m_units.size(); ++i)
            if (m_units[i].path == QLatin1String(CaseStore::kUnassignedUnit)) unassigned = static_cast<int>(i);
        auto unassignedUnit = [&] {
            if (unassigned < 0) {
                OrgUnit u;
                u.id = -1;
                u.name = u.path = QString::fromLatin1(CaseStore::kUnassignedUnit);
                unassigned = static_cast<int>(m_units.size());
                m_unitIndex.insert(u.id, unassigned);
                m_units.push_back(std::move(u));
                parentIds.push_back(0);
            }
            return unassigned;
        };

        // Users.
        {
            SqliteStmt q = db.prepare("SELECT lower(email), name, unit_id FROM users ORDER BY email");
            while (q.step()) {
                OrgUser u;
                u.email = qs(q, 0);
                u.name = qs(q, 1);
                u.unit = q.isNull(2) ? -1 : m_unitIndex.value(q.int64(2), -1);
                if (u.unit < 0) u.unit = unassignedUnit();
                m_userIndex.insert(u.email, static_cast<int>(m_users.size()));
                m_users.push_back(std::move(u));
            }
        }

        // The tree: parents, children by name, depth, head counts, preorder ranges.
        for (std::size_t i = 0; i < m_units.size(); ++i) {
            const int p = parentIds[i] ? m_unitIndex.value(parentIds[i], -1) : -1;
            m_units[i].parent = p == static_cast<int>(i) ? -1 : p;
        }
        std::vector<int> roots;
        for (std::size_t i = 0; i < m_units.size(); ++i) {
            if (m_units[i].parent >= 0) m_units[m_units[i].parent].children.push_back(static_cast<int>(i));
            else roots.push_back(static_cast<int>(i));
        }
        auto byName = [&](int a, int b) {
            // Unassigned last among the top level; otherwise by name.
            const bool ua = a == unassigned, ub = b == unassigned;
            if (ua != ub) return ub;
            return QString::localeAwareCompare(m_units[a].name, m_units[b].name) < 0;
        };
        std::sort(roots.begin(), roots.end(), byName);
        for (OrgUnit& u : m_units) std::sort(u.children.begin(), u.children.end(), byName);
        for (const OrgUser& u : m_users) ++m_units[u.unit].headCount;
        m_pre.assign(m_units.size(), -1);
        m_unitEnd.assign(m_units.size(), -1);
        {
            int counter = 0;
            // Iterative DFS (a cycle in parent ids cannot occur through the importer, but a
            // hand-edited case must not hang us: visited units are skipped).
            struct Frame { int unit; std::size_t next; };
            std::vector<Frame> stack;
            for (int r : roots) {
                if (m_pre[r] >= 0) continue;
                m_pre[r] = counter++;
                m_units[r].depth = 0;
                stack.push_back({r, 0});
                while (!stack.empty()) {
                    Frame& f = stack.back();
                    OrgUnit& u = m_units[f.unit];
                    if (f.next < u.children.size()) {
                        const int c = u.children[f.next++];
                        if (m_pre[c] >= 0) continue;
                        m_pre[c] = counter++;
                        m_units[c].depth = u.depth + 1;
                        stack.push_back({c, 0});
                    } else {
                        u.subtreeHeadCount += u.headCount;
                        m_unitEnd[f.unit] = counter;
                        const int done = f.unit;
                        stack.pop_back();
                        if (!stack.empty()) m_units[stack.back().unit].subtreeHeadCount += m_units[done].subtreeHeadCount;
                    }
                }
            }
        }

        // Flagged messages (schema 2).
        m_hasDetection = tableExists(db, "campaign_messages");
        if (m_hasDetection) {
            det::RuleSet rules = det::RuleSet::defaults();
            {
                SqliteStmt q = db.prepare("SELECT json FROM rulesets ORDER BY id DESC LIMIT 1");
                if (q.step()) {
                    det::RuleSet stored;
                    if (det::RuleSet::fromJson(QByteArray::fromStdString(q.text(0)), stored)) rules = stored;
                }
            }
            const TypeClassifier classify(rules.type);
            {
                SqliteStmt q = db.prepare("SELECT id, label FROM campaigns ORDER BY id");
                while (q.step()) m_campaigns.push_back({q.int64(0), qs(q, 1)});
            }
            QHash<qint64, int> campaignIndex;
            for (int i = 0; i < m_campaigns.size(); ++i) campaignIndex.insert(m_campaigns[i].id, i);
            std::unordered_map<qint64, int> msgIndex;
            {
                SqliteStmt q = db.prepare(
                    "SELECT m.id, m.time, lower(m.sender), cm.campaign_id FROM campaign_messages cm "
                    "JOIN messages m ON m.id = cm.message_id ORDER BY m.time, m.id");
                while (q.step()) {
                    FlaggedMessage m;
                    m.id = q.int64(0);
                    m.time = q.int64(1);
                    m.sender = m_userIndex.value(qs(q, 2), -1);
                    m.campaign = q.int64(3);
                    m.campaignIndex = campaignIndex.value(m.campaign, 0);
                    m.types = typeBit(TypeFamily::NoAttachment);
                    msgIndex.emplace(m.id, static_cast<int>(m_messages.size()));
                    m_messages.push_back(m);
                }
            }
            {
                SqliteStmt q = db.prepare(
                    "SELECT a.message_id, a.name FROM attachments a JOIN campaign_messages cm ON cm.message_id = a.message_id");
                while (q.step()) {
                    auto it = msgIndex.find(q.int64(0));
                    if (it == msgIndex.end()) continue;
                    FlaggedMessage& m = m_messages[it->second];
                    m.types &= ~typeBit(TypeFamily::NoAttachment);
                    m.types |= classify.classify(qs(q, 1));
                }
            }
            {
                // Final deliveries: one per recipient of the logical message (a recipient on
                // two copies is counted once: the pairs are made distinct below, cheaper than
                // DISTINCT in SQL).
                std::vector<std::pair<int, int>> pairs; // (message index, user index)
                SqliteStmt q = db.prepare(
                    "SELECT c.message_id, lower(d.recipient) FROM campaign_messages cm "
                    "JOIN copies c ON c.message_id = cm.message_id JOIN deliveries d ON d.copy_id = c.id "
                    "WHERE d.is_final = 1");
                while (q.step()) {
                    auto it = msgIndex.find(q.int64(0));
                    if (it == msgIndex.end()) continue;
                    const int user = m_userIndex.value(qs(q, 1), -1);
                    if (user >= 0) pairs.emplace_back(it->second, user);
                }
                std::sort(pairs.begin(), pairs.end());
                pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
                m_recipients.reserve(pairs.size());
                std::size_t k = 0;
                for (std::size_t i = 0; i < m_messages.size(); ++i) {
                    m_messages[i].firstRecipient = static_cast<std::uint32_t>(m_recipients.size());
                    while (k < pairs.size() && pairs[k].first == static_cast<int>(i)) m_recipients.push_back(pairs[k++].second);
                    m_messages[i].recipientCount = static_cast<std::uint32_t>(m_recipients.size()) - m_messages[i].firstRecipient;
                }
            }
        }
        db.exec("COMMIT");
        m_deepestFirst.resize(m_units.size());
        for (std::size_t i = 0; i < m_units.size(); ++i) m_deepestFirst[i] = static_cast<int>(i);
        std::stable_sort(m_deepestFirst.begin(), m_deepestFirst.end(), [&](int a, int b) { return m_units[a].depth > m_units[b].depth; });
    } catch (const SqliteError& e) {
        return fail(QString::fromUtf8(e.what()));
    }
    return true;
}

std::vector<int> OrgMapData::users(int unit) const {
    std::vector<int> out;
    for (std::size_t i = 0; i < m_users.size(); ++i)
        if (m_users[i].unit == unit) out.push_back(static_cast<int>(i));
    return out;
}

bool OrgMapData::contains(int a, int b) const {
    if (a < 0 || b < 0 || a >= static_cast<int>(m_units.size()) || b >= static_cast<int>(m_units.size())) return false;
    return m_pre[b] >= m_pre[a] && m_pre[b] < m_unitEnd[a];
}

std::vector<UnitCounts> OrgMapData::unitCounts(const OrgMapFilter& f, bool subtree) const {
    std::vector<UnitCounts> c(m_units.size());
    auto add = [&](int unit, std::uint32_t types, bool sent, bool recent) {
        UnitCounts& u = c[unit];
        (sent ? u.sent : u.received) += 1;
        if (recent) ++u.recent;
        u.types |= types;
        for (int t = 0; t < kTypeFamilyCount; ++t)
            if (types & (1u << t)) ++u.byType[t];
    };
    for (const FlaggedMessage& m : m_messages) {
        if (m.time > f.upTo) break; // by time
        if (!f.accepts(m)) continue;
        const bool recent = f.recentFrom && m.time >= f.recentFrom;
        if (m.sender >= 0) add(m_users[m.sender].unit, m.types, true, recent);
        for (std::uint32_t r = 0; r < m.recipientCount; ++r) add(m_users[m_recipients[m.firstRecipient + r]].unit, m.types, false, recent);
    }
    if (subtree) {
        for (int i : m_deepestFirst) {
            const int p = m_units[i].parent;
            if (p < 0) continue;
            c[p].sent += c[i].sent;
            c[p].received += c[i].received;
            c[p].recent += c[i].recent;
            c[p].types |= c[i].types;
            for (int t = 0; t < kTypeFamilyCount; ++t) c[p].byType[t] += c[i].byType[t];
        }
    }
    return c;
}

std::vector<UserCounts> OrgMapData::userCounts(int unit, const OrgMapFilter& f, bool subtree) const {
    std::vector<UserCounts> out;
    if (unit < 0 || unit >= static_cast<int>(m_units.size())) return out;
    std::unordered_map<int, std::size_t> slot;
    for (std::size_t i = 0; i < m_users.size(); ++i) {
        const int u = m_users[i].unit;
        if (u == unit || (subtree && contains(unit, u))) {
            slot.emplace(static_cast<int>(i), out.size());
            UserCounts c;
            c.user = static_cast<int>(i);
            out.push_back(c);
        }
    }
    for (const FlaggedMessage& m : m_messages) {
        if (m.time > f.upTo) break;
        if (!f.accepts(m)) continue;
        if (m.sender >= 0) {
            auto it = slot.find(m.sender);
            if (it != slot.end()) {
                ++out[it->second].sent;
                out[it->second].types |= m.types;
            }
        }
        for (std::uint32_t r = 0; r < m.recipientCount; ++r) {
            auto it = slot.find(m_recipients[m.firstRecipient + r]);
            if (it != slot.end()) {
                ++out[it->second].received;
                out[it->second].types |= m.types;
            }
        }
    }
    std::sort(out.begin(), out.end(), [&](const UserCounts& a, const UserCounts& b) {
        if (a.total() != b.total()) return a.total() > b.total();
        return m_users[a.user].email < m_users[b.user].email;
    });
    return out;
}

std::vector<UserCounts> OrgMapData::allUserCounts(const OrgMapFilter& f) const {
    std::vector<UserCounts> out(m_users.size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i].user = static_cast<int>(i);
    for (const FlaggedMessage& m : m_messages) {
        if (m.time > f.upTo) break;
        if (!f.accepts(m)) continue;
        if (m.sender >= 0) {
            ++out[m.sender].sent;
            out[m.sender].types |= m.types;
        }
        for (std::uint32_t r = 0; r < m.recipientCount; ++r) {
            UserCounts& c = out[m_recipients[m.firstRecipient + r]];
            ++c.received;
            c.types |= m.types;
        }
    }
    return out;
}

std::vector<UnitLink> OrgMapData::links(const OrgMapFilter& f) const {
    // One packed key per (message, recipient): from unit, to unit, campaign; sorted, the runs
    // are the links. Far cheaper than a hash map for a few hundred thousand pairs.
    std::vector<std::pair<std::uint64_t, std::uint32_t>> keys; // (key, message index)
    keys.reserve(m_recipients.size());
    for (std::uint32_t i = 0; i < m_messages.size(); ++i) {
        const FlaggedMessage& m = m_messages[i];
        if (m.time > f.upTo) break;
        if (!f.accepts(m) || m.sender < 0) continue;
        const std::uint64_t from = static_cast<std::uint64_t>(m_users[m.sender].unit);
        for (std::uint32_t r = 0; r < m.recipientCount; ++r) {
            const std::uint64_t to = static_cast<std::uint64_t>(m_users[m_recipients[m.firstRecipient + r]].unit);
            keys.emplace_back(from << 40 | to << 16 | static_cast<std::uint64_t>(m.campaignIndex & 0xFFFF), i);
        }
    }
    std::sort(keys.begin(), keys.end());
    std::vector<UnitLink> out;
    for (std::size_t i = 0; i < keys.size();) {
        std::size_t j = i;
        while (j < keys.size() && keys[j].first == keys[i].first) ++j;
        UnitLink l;
        l.from = static_cast<int>(keys[i].first >> 40);
        l.to = static_cast<int>(keys[i].first >> 16 & 0xFFFFFF);
        l.campaign = m_messages[keys[i].second].campaign;
        l.count = static_cast<int>(j - i);
        l.firstTime = m_messages[keys[i].second].time;
        l.lastTime = m_messages[keys[j - 1].second].time;
        out.push_back(l);
        i = j;
    }
    return out;
}

int OrgMapData::messageCount(const OrgMapFilter& f) const {
    int n = 0;
    for (const FlaggedMessage& m : m_messages) {
        if (m.time > f.upTo) break;
        if (f.accepts(m)) ++n;
    }
    return n;
}

} // namespace mt
