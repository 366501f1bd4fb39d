// Org chart from LDIF (RFC 2849) as OpenLDAP's slapcat/ldapsearch, 389-ds and Active
// Directory's ldifde write it.
#include "OrgChart.h"

#include <QByteArray>
#include <QString>

#include <algorithm>
#include <cstring>
#include <optional>
#include <unordered_map>

namespace mt {
namespace orgdetail {

namespace {

enum class Attr {
    Other, Dn, Version, Changetype, Mail, Cn, DisplayName, GivenName, Sn, Ou, Department, Manager,
    MailHost, ExchServer, UserWorkstations
};

bool eqNoCase(std::string_view a, std::string_view b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = char(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = char(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

Attr classify(std::string_view name)
{
    switch (name.size()) {
    case 2:
        if (eqNoCase(name, "dn")) return Attr::Dn;
        if (eqNoCase(name, "cn")) return Attr::Cn;
        if (eqNoCase(name, "ou")) return Attr::Ou;
        if (eqNoCase(name, "sn")) return Attr::Sn;
        break;
    case 4:
        if (eqNoCase(name, "mail")) return Attr::Mail;
        break;
    case 7:
        if (eqNoCase(name, "version")) return Attr::Version;
        if (eqNoCase(name, "manager")) return Attr::Manager;
        break;
    case 8:
        if (eqNoCase(name, "mailhost")) return Attr::MailHost;
        break;
    case 9:
        if (eqNoCase(name, "givenname")) return Attr::GivenName;
        break;
    case 10:
        if (eqNoCase(name, "changetype")) return Attr::Changetype;
        if (eqNoCase(name, "department")) return Attr::Department;
        break;
    case 11:
        if (eqNoCase(name, "displayname")) return Attr::DisplayName;
        break;
    case 16:
        if (eqNoCase(name, "userworkstations")) return Attr::UserWorkstations;
        break;
    case 20:
        if (eqNoCase(name, "msexchhomeservername")) return Attr::ExchServer;
        break;
    default:
        break;
    }
    return Attr::Other;
}

bool validAttrName(std::string_view name)
{
    if (name.empty())
        return false;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                        || c == ';' || c == '.' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

bool isHex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hexVal(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c - 'A' + 10;
}

// Walks the attribute-value assertions of a DN (RFC 4514, plus RFC 1779's ';' separators and
// quoted values), unescaping values. f(rdnIndex, type, value); rdnIndex 0 is the entry's own.
template <class F>
void forEachAva(std::string_view dn, std::string& value, F&& f)
{
    const std::size_t n = dn.size();
    std::size_t pos = 0;
    int rdn = 0;
    while (pos < n) {
        while (pos < n && dn[pos] == ' ')
            ++pos;
        std::size_t eq = pos;
        while (eq < n && dn[eq] != '=' && dn[eq] != ',' && dn[eq] != '+' && dn[eq] != ';')
            ++eq;
        if (eq >= n || dn[eq] != '=')
            return; // not a DN (or its tail is not): stop quietly
        const std::string_view type = trim(dn.substr(pos, eq - pos));
        pos = eq + 1;
        while (pos < n && dn[pos] == ' ')
            ++pos;
        value.clear();
        if (pos < n && dn[pos] == '"') {
            ++pos;
            while (pos < n && dn[pos] != '"') {
                if (dn[pos] == '\\' && pos + 1 < n)
                    ++pos;
                value.push_back(dn[pos++]);
            }
            if (pos < n)
                ++pos; // closing quote
            while (pos < n && dn[pos] != ',' && dn[pos] != '+' && dn[pos] != ';')
                ++pos;
        } else {
            while (pos < n) {
                const char c = dn[pos];
                if (c == '\\' && pos + 1 < n) {
                    if (pos + 2 < n && isHex(dn[pos + 1]) && isHex(dn[pos + 2])) {
                        value.push_back(char(hexVal(dn[pos + 1]) * 16 + hexVal(dn[pos + 2])));
                        pos += 3;
                    } else {
                        value.push_back(dn[pos + 1]);
                        pos += 2;
                    }
                    continue;
                }
                if (c == ',' || c == '+' || c == ';')
                    break;
                value.push_back(c);
                ++pos;
            }
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.pop_back();
        }
        f(rdn, type, std::string_view(value));
        if (pos < n) {
            if (dn[pos] != '+')
                ++rdn;
            ++pos;
        }
    }
}

std::string asciiLower(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

// Comparison key of a DN: types and values case folded, blanks around separators dropped,
// escapes resolved. Empty when the text is not a DN.
std::string dnKey(std::string_view dn, std::string& scratch)
{
    std::string key;
    int lastRdn = -1;
    forEachAva(dn, scratch, [&](int rdn, std::string_view type, std::string_view value) {
        if (lastRdn >= 0)
            key.push_back(rdn == lastRdn ? '\x02' : '\x01');
        lastRdn = rdn;
        key += asciiLower(type);
        key.push_back('=');
        key += foldCase(value);
    });
    return key;
}

struct Entry {
    bool started = false;
    bool skipping = false; // a malformed entry being skipped up to the next blank line
    std::int64_t line = 0;
    std::string dn;
    std::string changetype;
    std::vector<std::string> mail;
    std::vector<std::string> ou;
    std::string cn, displayName, givenName, sn, department, manager, mailHost, exchServer, workstations;

    void reset()
    {
        started = skipping = false;
        line = 0;
        dn.clear();
        changetype.clear();
        mail.clear();
        ou.clear();
        cn.clear();
        displayName.clear();
        givenName.clear();
        sn.clear();
        department.clear();
        manager.clear();
        mailHost.clear();
        exchServer.clear();
        workstations.clear();
    }
};

class LdifParser {
public:
    LdifParser(std::string_view text, const std::string& file, OrgChartResult& r) : m_text(text), m_file(file), m_r(r) {}

    void run()
    {
        const std::size_t size = m_text.size();
        // A person entry takes a few hundred bytes: size the maps once instead of rehashing.
        const std::size_t guess = std::max<std::size_t>(64, size / 256);
        m_byEmail.reserve(guess);
        m_byDn.reserve(guess);
        std::size_t pos = 0;
        std::int64_t lineNo = 0;
        while (pos < size) {
            const char* nlp = static_cast<const char*>(std::memchr(m_text.data() + pos, '\n', size - pos));
            const std::size_t end = nlp ? std::size_t(nlp - m_text.data()) : size;
            std::string_view ln = m_text.substr(pos, end - pos);
            pos = nlp ? end + 1 : size;
            ++lineNo;
            if (!ln.empty() && ln.back() == '\r')
                ln.remove_suffix(1);
            physicalLine(ln, lineNo);
        }
        flushPending();
        endEntry();
        m_r.lines = lineNo;
        finish();
    }

private:
    void physicalLine(std::string_view ln, std::int64_t lineNo)
    {
        if (!ln.empty() && ln.front() == ' ') {
            if (m_pendingActive) {
                if (!m_pendingComment) {
                    if (!m_pendingOwned) {
                        m_pendingBuf.assign(m_pendingView);
                        m_pendingOwned = true;
                    }
                    m_pendingBuf.append(ln.substr(1));
                }
            } else if (!trim(ln).empty()) {
                issue(lineNo, "continuation line (leading space) with no line to continue", ln);
            }
            return;
        }
        flushPending();
        if (trim(ln).empty()) {
            endEntry();
            return;
        }
        m_pendingActive = true;
        m_pendingComment = ln.front() == '#';
        m_pendingOwned = false;
        m_pendingView = ln;
        m_pendingLine = lineNo;
    }

    void flushPending()
    {
        if (!m_pendingActive)
            return;
        m_pendingActive = false;
        if (m_pendingComment)
            return;
        logicalLine(m_pendingOwned ? std::string_view(m_pendingBuf) : m_pendingView, m_pendingLine);
    }

    void issue(std::int64_t line, std::string reason, std::string_view raw = {})
    {
        addIssue(m_r, m_file, line, std::move(reason), raw);
    }

    // The value of an attribute we use: plain, base64-decoded, or nothing for a URL reference.
    std::optional<std::string> value(std::string_view name, std::string_view rest, char kind, std::int64_t lineNo,
                                     std::string_view raw)
    {
        if (kind == '<') {
            issue(lineNo, "value of '" + std::string(name) + "' given as a URL; not read", raw);
            return std::nullopt;
        }
        if (kind != ':')
            return std::string(trim(rest));
        std::string b64;
        b64.reserve(rest.size());
        for (char c : rest)
            if (c != ' ' && c != '\t')
                b64.push_back(c);
        const auto decoded = QByteArray::fromBase64Encoding(QByteArray::fromRawData(b64.data(), qsizetype(b64.size())),
                                                            QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded) {
            issue(lineNo, "invalid base64 value for '" + std::string(name) + "'", raw);
            return std::nullopt;
        }
        const QByteArray& bytes = *decoded;
        std::string v(bytes.constData(), std::size_t(bytes.size()));
        if (!isValidUtf8(v))
            v = latin1ToUtf8(v);
        return std::string(trim(v));
    }

    void logicalLine(std::string_view line, std::int64_t lineNo)
    {
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            if (trim(line) == "-")
                return; // separator inside a changetype: modify record
            if (m_entry.skipping)
                return;
            issue(lineNo, "not an LDIF line (no ':')", line);
            return;
        }
        const std::string_view name = line.substr(0, colon);
        if (!validAttrName(name)) {
            if (!m_entry.skipping)
                issue(lineNo, "not an LDIF line (bad attribute name)", line);
            return;
        }
        std::string_view rest = line.substr(colon + 1);
        char kind = 0;
        if (!rest.empty() && (rest.front() == ':' || rest.front() == '<')) {
            kind = rest.front();
            rest.remove_prefix(1);
        }
        const std::size_t semi = name.find(';');
        const bool hasOptions = semi != std::string_view::npos;
        const Attr a = classify(hasOptions ? name.substr(0, semi) : name);

        if (!m_entry.started) {
            if (a == Attr::Version && !hasOptions && m_entries == 0 && !m_versionSeen) {
                m_versionSeen = true;
                return;
            }
            if (a == Attr::Dn && !hasOptions) {
                startEntry(rest, kind, lineNo, line);
                return;
            }
            if (!m_entry.skipping) {
                issue(lineNo, "entry does not start with 'dn:'; skipped up to the next blank line", line);
                m_entry.skipping = true;
            }
            return;
        }
        if (a == Attr::Dn && !hasOptions) {
            issue(lineNo, "no blank line before this 'dn:'; read as a new entry", line);
            endEntry();
            startEntry(rest, kind, lineNo, line);
            return;
        }
        if (a == Attr::Other || hasOptions) // language tags and other options: the plain value wins
            return;
        auto v = value(name, rest, kind, lineNo, line);
        if (!v)
            return;
        switch (a) {
        case Attr::Changetype: m_entry.changetype = asciiLower(*v); break;
        case Attr::Mail: m_entry.mail.push_back(std::move(*v)); break;
        case Attr::Ou: m_entry.ou.push_back(std::move(*v)); break;
        case Attr::Cn: if (m_entry.cn.empty()) m_entry.cn = std::move(*v); break;
        case Attr::DisplayName: if (m_entry.displayName.empty()) m_entry.displayName = std::move(*v); break;
        case Attr::GivenName: if (m_entry.givenName.empty()) m_entry.givenName = std::move(*v); break;
        case Attr::Sn: if (m_entry.sn.empty()) m_entry.sn = std::move(*v); break;
        case Attr::Department: if (m_entry.department.empty()) m_entry.department = std::move(*v); break;
        case Attr::Manager: if (m_entry.manager.empty()) m_entry.manager = std::move(*v); break;
        case Attr::MailHost: if (m_entry.mailHost.empty()) m_entry.mailHost = std::move(*v); break;
        case Attr::ExchServer: if (m_entry.exchServer.empty()) m_entry.exchServer = std::move(*v); break;
        case Attr::UserWorkstations: if (m_entry.workstations.empty()) m_entry.workstations = std::move(*v); break;
        case Attr::Version: break; // "version:" inside an entry: an ordinary attribute
        default: break;
        }
    }

    void startEntry(std::string_view rest, char kind, std::int64_t lineNo, std::string_view raw)
    {
        m_entry.reset();
        ++m_entries;
        auto v = value("dn", rest, kind, lineNo, raw);
        if (!v) {
            m_entry.skipping = true;
            return;
        }
        m_entry.started = true;
        m_entry.line = lineNo;
        m_entry.dn = std::move(*v);
    }

    std::string unitOf(const Entry& e)
    {
        if (std::string u = normaliseUnitPath(e.department); !u.empty())
            return u;
        // OUs the DN sits in, innermost first.
        std::vector<std::string> dnOus;
        forEachAva(e.dn, m_scratch, [&](int rdn, std::string_view type, std::string_view value) {
            if (rdn > 0 && eqNoCase(type, "ou") && !trim(value).empty())
                dnOus.emplace_back(trim(value));
        });
        std::vector<std::string_view> ous;
        for (const std::string& o : e.ou)
            if (!trim(o).empty())
                ous.push_back(trim(o));
        if (!ous.empty()) {
            std::string_view pick = ous.front();
            if (ous.size() > 1 && !dnOus.empty()) {
                // 389-ds puts the department as a second `ou` beside the container's own name.
                const std::string container = foldCase(dnOus.front());
                for (std::string_view o : ous) {
                    if (foldCase(o) != container) {
                        pick = o;
                        break;
                    }
                }
            }
            if (std::string u = normaliseUnitPath(pick); !u.empty())
                return u;
        }
        if (!dnOus.empty()) {
            std::string path;
            for (auto it = dnOus.rbegin(); it != dnOus.rend(); ++it) {
                if (!path.empty())
                    path.push_back('/');
                path += *it;
            }
            if (std::string u = normaliseUnitPath(path); !u.empty())
                return u;
        }
        return "Unassigned";
    }

    static std::string serverOf(const Entry& e)
    {
        if (!e.mailHost.empty())
            return e.mailHost;
        // msExchHomeServerName: "/o=Org/ou=Exchange Administrative Group (...)/cn=Configuration/cn=Servers/cn=EXCH01"
        std::string_view s = e.exchServer;
        for (std::size_t i = s.size(); i >= 4; --i) {
            if (s[i - 4] == '/' && eqNoCase(s.substr(i - 3, 3), "cn=")) {
                s = s.substr(i);
                break;
            }
        }
        return std::string(trim(s));
    }

    void endEntry()
    {
        if (!m_entry.started) {
            m_entry.reset();
            return;
        }
        Entry& e = m_entry;
        const std::string& ct = e.changetype;
        const bool notAnAdd = !ct.empty() && ct != "add";
        if (!e.mail.empty() && !notAnAdd) {
            ++m_withMail;
            addUser(e);
        }
        e.reset();
    }

    void addUser(const Entry& e)
    {
        std::string email;
        bool ok = false;
        for (const std::string& m : e.mail) {
            if (normaliseEmail(m, email, true)) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            issue(e.line, "invalid mail address \"" + excerpt(e.mail.front(), 80) + "\"; entry skipped", "dn: " + e.dn);
            return;
        }
        if (const auto it = m_byEmail.find(email); it != m_byEmail.end()) {
            issue(e.line,
                  "duplicate mail address " + email + " (first in the entry on line "
                      + std::to_string(m_r.users[it->second].line) + "); entry skipped",
                  "dn: " + e.dn);
            return;
        }
        OrgUserRecord u;
        u.email = email;
        if (!e.displayName.empty())
            u.name = e.displayName;
        else if (!e.cn.empty())
            u.name = e.cn;
        else
            u.name = std::string(trim(e.givenName + " " + e.sn));
        u.unitPath = unitOf(e);
        u.server = serverOf(e);
        if (!e.workstations.empty()) {
            const std::string_view w = e.workstations;
            u.workstation = std::string(trim(w.substr(0, w.find(','))));
        }
        u.manager = e.manager; // a DN until finish() resolves it
        u.line = e.line;
        const std::size_t idx = m_r.users.size();
        m_byEmail.emplace(u.email, idx);
        m_byDn.emplace(dnKey(e.dn, m_scratch), idx);
        m_r.users.push_back(std::move(u));
    }

    void finish()
    {
        if (m_entries == 0) {
            m_r.issues.clear(); // every line was noise; the failure says it all
            m_r.failed = true;
            m_r.failure = m_file + ": not LDIF (no 'dn:' entry found)";
            return;
        }
        if (m_withMail == 0) {
            m_r.failed = true;
            m_r.failure = m_file + ": not an org chart: none of its " + std::to_string(m_entries)
                          + " LDIF entries has a 'mail' attribute";
            return;
        }
        for (OrgUserRecord& u : m_r.users) {
            if (u.manager.empty())
                continue;
            const std::string key = dnKey(u.manager, m_scratch);
            const auto it = key.empty() ? m_byDn.end() : m_byDn.find(key);
            if (it != m_byDn.end()) {
                u.manager = m_r.users[it->second].email;
            } else {
                m_r.danglingManagers.push_back(u.email + " -> " + u.manager);
                u.manager.clear();
            }
        }
    }

    std::string_view m_text;
    const std::string& m_file;
    OrgChartResult& m_r;

    bool m_pendingActive = false;
    bool m_pendingComment = false;
    bool m_pendingOwned = false;
    std::string_view m_pendingView;
    std::string m_pendingBuf;
    std::int64_t m_pendingLine = 0;

    Entry m_entry;
    bool m_versionSeen = false;
    std::int64_t m_entries = 0;  // entries seen (with a dn line)
    std::int64_t m_withMail = 0; // of those, entries with a mail attribute
    std::unordered_map<std::string, std::size_t> m_byEmail;
    std::unordered_map<std::string, std::size_t> m_byDn;
    std::string m_scratch;
};

} // namespace

void parseLdif(std::string_view text, const std::string& file, OrgChartResult& r)
{
    LdifParser(text, file, r).run();
}

} // namespace orgdetail

OrgChartResult readOrgChartLdif(const QString& path)
{
    OrgChartResult r;
    std::string text;
    if (!orgdetail::loadText(path, text, r))
        return r;
    orgdetail::parseLdif(text, orgdetail::fileLabel(path), r);
    return r;
}

} // namespace mt
