// Org chart from CSV: a header row, then one person per row.
#include "OrgChart.h"

#include <QString>

#include <algorithm>
#include <array>
#include <cctype>
#include <unordered_map>

namespace mt {
namespace orgdetail {

namespace {

// In the order of orgFields().
enum Field { FEmail, FUnit, FName, FManager, FWorkstation, FServer, FId, kFieldCount };

const char* fieldName(int f) { return orgFields()[std::size_t(f)].key; }

int fieldFromMapKey(std::string_view key)
{
    const std::string k = foldCase(trim(key));
    if (k == "email" || k == "e-mail" || k == "mail")
        return FEmail;
    if (k == "unit" || k == "unitpath" || k == "unit path" || k == "department")
        return FUnit;
    if (k == "name" || k == "displayname" || k == "display name")
        return FName;
    if (k == "manager")
        return FManager;
    if (k == "workstation")
        return FWorkstation;
    if (k == "server")
        return FServer;
    if (k == "id")
        return FId;
    return -1;
}

std::string squash(std::string_view s) { return orgHeaderKey(s); }

// Counts physical line breaks: "\n", "\r\n" and a lone "\r" each count once.
std::int64_t countBreaks(std::string_view s)
{
    std::int64_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\n')
            ++n;
        else if (s[i] == '\r' && (i + 1 >= s.size() || s[i + 1] != '\n'))
            ++n;
    }
    return n;
}

std::string_view physicalLineAt(std::string_view s, std::size_t pos)
{
    if (pos >= s.size())
        return {};
    std::size_t e = s.find_first_of("\r\n", pos);
    if (e == std::string_view::npos)
        e = s.size();
    return s.substr(pos, e - pos);
}

// RFC 4180 record reader over the whole text, lenient where spreadsheets are sloppy: blanks
// before an opening quote, text after a closing quote, bare quotes inside unquoted cells.
class CsvCursor {
public:
    enum Status { Ok, End, Unterminated };
    // A quoted cell spanning more line breaks than this is taken for a stray quote.
    static constexpr std::int64_t kMaxQuotedBreaks = 1000;

    CsvCursor(std::string_view s, char delim) : m_s(s), m_delim(delim) {}

    void skipTo(std::size_t pos, std::int64_t line)
    {
        m_pos = pos;
        m_line = line;
    }
    std::size_t pos() const { return m_pos; }
    std::int64_t line() const { return m_line; }

    Status next(std::vector<std::string>& fields, std::size_t& n, std::int64_t& recLine, std::size_t& recPos)
    {
        n = 0;
        if (m_pos >= m_s.size())
            return End;
        recLine = m_line;
        recPos = m_pos;
        const std::size_t size = m_s.size();
        for (;;) {
            if (n == fields.size())
                fields.emplace_back();
            std::string& f = fields[n++];
            f.clear();

            std::size_t j = m_pos;
            while (j < size && (m_s[j] == ' ' || (m_s[j] == '\t' && m_delim != '\t')))
                ++j;
            if (j < size && m_s[j] == '"') {
                std::size_t p = j + 1;
                std::int64_t breaks = 0;
                for (;;) {
                    const std::size_t q = m_s.find('"', p);
                    if (q == std::string_view::npos)
                        return Unterminated;
                    const std::string_view chunk = m_s.substr(p, q - p);
                    breaks += countBreaks(chunk);
                    if (breaks > kMaxQuotedBreaks)
                        return Unterminated;
                    f.append(chunk);
                    if (q + 1 < size && m_s[q + 1] == '"') {
                        f.push_back('"');
                        p = q + 2;
                        continue;
                    }
                    p = q + 1;
                    break;
                }
                m_line += breaks;
                m_pos = p;
            }
            std::size_t k = m_pos;
            while (k < size) {
                const char c = m_s[k];
                if (c == m_delim || c == '\n' || c == '\r')
                    break;
                ++k;
            }
            f.append(m_s.data() + m_pos, k - m_pos);
            m_pos = k;
            if (m_pos >= size)
                return Ok;
            if (m_s[m_pos] == m_delim) {
                ++m_pos;
                continue;
            }
            if (m_s[m_pos] == '\r' && m_pos + 1 < size && m_s[m_pos + 1] == '\n')
                m_pos += 2;
            else
                ++m_pos;
            ++m_line;
            return Ok;
        }
    }

    // After Unterminated: carry on with the physical line after the record's first line.
    void resumeAfter(std::size_t recPos, std::int64_t recLine)
    {
        std::size_t e = m_s.find_first_of("\r\n", recPos);
        if (e == std::string_view::npos) {
            m_pos = m_s.size();
        } else {
            m_pos = (m_s[e] == '\r' && e + 1 < m_s.size() && m_s[e + 1] == '\n') ? e + 2 : e + 1;
        }
        m_line = recLine + 1;
    }

private:
    std::string_view m_s;
    char m_delim;
    std::size_t m_pos = 0;
    std::int64_t m_line = 1;
};

// Picks the delimiter from the header line: the most frequent of , ; TAB | outside quotes.
char detectDelimiter(std::string_view headerLine)
{
    int comma = 0, semi = 0, tab = 0, pipe = 0;
    bool inQuotes = false;
    for (char c : headerLine) {
        if (c == '"') {
            inQuotes = !inQuotes;
            continue;
        }
        if (inQuotes)
            continue;
        switch (c) {
        case ',': ++comma; break;
        case ';': ++semi; break;
        case '\t': ++tab; break;
        case '|': ++pipe; break;
        default: break;
        }
    }
    char best = ',';
    int bestCount = comma;
    if (semi > bestCount) { best = ';'; bestCount = semi; }
    if (tab > bestCount) { best = '\t'; bestCount = tab; }
    if (pipe > bestCount) { best = '|'; bestCount = pipe; }
    return best;
}

// Where the header starts and which delimiter to use ("sep=;" first line honoured).
struct CsvLayout {
    char delim = ',';
    std::size_t start = 0;
    std::int64_t startLine = 1;
};

CsvLayout layoutOf(std::string_view text)
{
    CsvLayout l;
    std::size_t pos = 0;
    std::int64_t line = 1;
    // Excel's "sep=;" hint line.
    {
        const std::string_view first = physicalLineAt(text, 0);
        const std::string_view t = trim(first);
        if (t.size() == 5 && (t.substr(0, 4) == "sep=" || t.substr(0, 4) == "SEP=" || t.substr(0, 4) == "Sep=")) {
            l.delim = t[4];
            pos = first.size();
            if (pos < text.size() && text[pos] == '\r')
                ++pos;
            if (pos < text.size() && text[pos] == '\n')
                ++pos;
            l.start = pos;
            l.startLine = 2;
            return l;
        }
    }
    // Skip leading blank lines; the first non-blank line is the header.
    while (pos < text.size()) {
        const std::string_view ln = physicalLineAt(text, pos);
        if (!trim(ln).empty())
            break;
        pos += ln.size();
        if (pos < text.size() && text[pos] == '\r')
            ++pos;
        if (pos < text.size() && text[pos] == '\n')
            ++pos;
        ++line;
    }
    l.start = pos;
    l.startLine = line;
    l.delim = detectDelimiter(physicalLineAt(text, pos));
    return l;
}

bool blankRecord(const std::vector<std::string>& fields, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i)
        if (!trim(fields[i]).empty())
            return false;
    return true;
}

std::string quoteList(const std::vector<std::string>& cells)
{
    std::string out;
    const std::size_t shown = std::min<std::size_t>(cells.size(), 30);
    for (std::size_t i = 0; i < shown; ++i) {
        if (i)
            out += ", ";
        out += '"';
        out += excerpt(trim(cells[i]), 60);
        out += '"';
    }
    if (shown < cells.size())
        out += ", ... (" + std::to_string(cells.size()) + " in all)";
    if (cells.empty())
        out = "(none)";
    return out;
}

std::string cellText(std::string_view raw)
{
    std::string s(trim(raw));
    for (char& c : s)
        if (c == '\n' || c == '\r' || c == '\t')
            c = ' ';
    return s;
}

} // namespace

std::vector<std::string> csvHeaderCells(std::string_view text)
{
    std::vector<std::string> out;
    const CsvLayout layout = layoutOf(text);
    CsvCursor cur(text, layout.delim);
    cur.skipTo(layout.start, layout.startLine);
    std::vector<std::string> fields;
    std::size_t n = 0;
    std::int64_t recLine = 0;
    std::size_t recPos = 0;
    if (cur.next(fields, n, recLine, recPos) != CsvCursor::Ok)
        return out;
    for (std::size_t i = 0; i < n; ++i)
        out.emplace_back(trim(fields[i]));
    while (!out.empty() && out.back().empty())
        out.pop_back(); // trailing delimiters
    return out;
}

void parseCsv(std::string_view text, const std::string& file, const OrgColumnMap& map, OrgChartResult& r)
{
    // Physical lines, for the record.
    r.lines = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n')
            ++r.lines;
        else if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))
            ++r.lines;
    }
    if (!text.empty() && text.back() != '\n' && text.back() != '\r')
        ++r.lines;

    auto fail = [&](const std::string& why) {
        r.failed = true;
        r.failure = file + ": " + why;
    };

    const CsvLayout layout = layoutOf(text);
    if (layout.start >= text.size()) {
        fail("no header row (the file holds only blank lines)");
        return;
    }
    CsvCursor cur(text, layout.delim);
    cur.skipTo(layout.start, layout.startLine);

    std::vector<std::string> fields;
    std::size_t n = 0;
    std::int64_t recLine = 0;
    std::size_t recPos = 0;
    if (cur.next(fields, n, recLine, recPos) != CsvCursor::Ok) {
        fail("the header row has an unterminated quoted field");
        return;
    }
    std::vector<std::string> headers;
    headers.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        headers.emplace_back(trim(fields[i]));
    while (!headers.empty() && headers.back().empty())
        headers.pop_back();
    if (headers.empty()) {
        fail("no header row");
        return;
    }
    std::vector<std::string> folded, squashed;
    for (const std::string& h : headers) {
        folded.push_back(foldCase(h));
        squashed.push_back(squash(h));
    }

    // Column of each field: the map first, then the field's name and aliases.
    std::array<int, kFieldCount> col;
    col.fill(-1);
    std::vector<bool> used(headers.size(), false);
    std::array<std::string, kFieldCount> mappedTo;
    for (const auto& [key, header] : map) {
        if (foldCase(trim(key)) == "domain")
            continue; // not a column: see below
        const int fld = fieldFromMapKey(key);
        if (fld < 0) {
            addIssue(r, file, 0,
                     "column map names an unknown field \"" + key
                         + "\" (known: email, unit, name, manager, workstation, server, id, and domain); ignored");
            continue;
        }
        if (trim(header).empty())
            continue; // "no mapping": detect as usual
        mappedTo[fld] = std::string(trim(header));
        const std::string fh = foldCase(trim(header));
        const std::string sh = squash(header);
        int found = -1;
        for (std::size_t i = 0; i < headers.size() && found < 0; ++i)
            if (folded[i] == fh)
                found = int(i);
        for (std::size_t i = 0; i < headers.size() && found < 0; ++i)
            if (!sh.empty() && squashed[i] == sh)
                found = int(i);
        if (found < 0) {
            const std::string why = "column \"" + mappedTo[fld] + "\" (mapped to '" + fieldName(fld)
                                    + "') is not in the header; headers found: " + quoteList(headers);
            if (fld == FEmail || fld == FUnit) {
                fail(why);
                return;
            }
            addIssue(r, file, layout.startLine, why + "; field left empty");
            col[fld] = -2; // explicitly mapped, not present: do not guess
            continue;
        }
        col[fld] = found;
        used[found] = true;
    }
    for (int fld = 0; fld < kFieldCount; ++fld) {
        if (col[fld] != -1)
            continue;
        for (const std::string& alias : orgFields()[std::size_t(fld)].aliases) {
            for (std::size_t i = 0; i < headers.size() && col[fld] < 0; ++i) {
                if (!used[i] && squashed[i] == alias) {
                    col[fld] = int(i);
                    used[i] = true;
                }
            }
            if (col[fld] >= 0)
                break;
        }
    }
    {
        const bool noEmail = col[FEmail] < 0, noUnit = col[FUnit] < 0;
        if (noEmail || noUnit) {
            const std::string what = noEmail && noUnit ? "the required fields 'email' and 'unit'"
                                      : noEmail        ? "the required field 'email'"
                                                       : "the required field 'unit'";
            fail("not an org chart CSV: no column for " + what
                 + " (choose one in the column mapping); headers found: " + quoteList(headers));
            return;
        }
    }

    auto cell = [&](int fld) -> std::string_view {
        const int c = col[fld];
        if (c < 0 || std::size_t(c) >= n)
            return {};
        return fields[std::size_t(c)];
    };

    // Bare user names become addresses in this domain (--org-domain).
    std::string domain;
    for (const auto& [key, value] : map)
        if (foldCase(trim(key)) == "domain")
            domain = foldCase(trim(value));
    if (!domain.empty() && domain.front() == '@')
        domain.erase(0, 1);
    auto withDomain = [&](std::string_view cellValue, std::string& out) {
        const std::string_view v = trim(cellValue);
        if (domain.empty() || v.empty() || v.find('@') != std::string_view::npos)
            return normaliseEmail(v, out);
        return normaliseEmail(std::string(v) + "@" + domain, out);
    };

    std::unordered_map<std::string, std::size_t> byEmail; // email -> index in r.users
    std::unordered_map<std::string, std::size_t> byId;    // the id column -> index in r.users
    std::vector<std::string> badManager;                  // per user: a manager cell that is no address
    {
        const std::size_t expect = std::size_t(std::clamp<std::int64_t>(r.lines, 16, 500000));
        byEmail.reserve(expect);
        r.users.reserve(expect);
        badManager.reserve(expect);
    }
    std::string email, unit, mgr;
    for (;;) {
        const CsvCursor::Status st = cur.next(fields, n, recLine, recPos);
        if (st == CsvCursor::End)
            break;
        if (st == CsvCursor::Unterminated) {
            addIssue(r, file, recLine,
                     "unterminated quoted field (a '\"' opens a cell that never closes); line skipped",
                     physicalLineAt(text, recPos));
            cur.resumeAfter(recPos, recLine);
            continue;
        }
        if (blankRecord(fields, n))
            continue;

        const bool emailOk = withDomain(cell(FEmail), email);
        unit = normaliseUnitPath(cell(FUnit));
        if (!emailOk || unit.empty()) {
            std::string why;
            if (!emailOk) {
                why = email.empty() ? "missing e-mail address" : "invalid e-mail address \"" + excerpt(email, 80) + "\"";
                if (!email.empty() && domain.empty() && email.find('@') == std::string::npos)
                    why += " (a user name? give the mail domain: --org-domain, or the domain in the column step)";
            }
            if (unit.empty()) {
                if (!why.empty())
                    why += "; ";
                why += "empty unit";
            }
            addIssue(r, file, recLine, why + "; row skipped", physicalLineAt(text, recPos));
            continue;
        }
        if (const auto it = byEmail.find(email); it != byEmail.end()) {
            addIssue(r, file, recLine,
                     "duplicate e-mail address " + email + " (first on line " + std::to_string(r.users[it->second].line)
                         + "); row skipped",
                     physicalLineAt(text, recPos));
            continue;
        }

        OrgUserRecord u;
        u.email = email;
        u.unitPath = unit;
        u.name = cellText(cell(FName));
        u.workstation = cellText(cell(FWorkstation));
        u.server = cellText(cell(FServer));
        u.line = recLine;
        std::string badMgr;
        const std::string_view rawMgr = trim(cell(FManager));
        if (!rawMgr.empty()) {
            // An address; else the id of another row (resolved below); else a user name.
            if (rawMgr.find('@') != std::string_view::npos && normaliseEmail(rawMgr, mgr))
                u.manager = mgr;
            else if (col[FId] < 0 && withDomain(rawMgr, mgr))
                u.manager = mgr;
            else
                badMgr = cellText(rawMgr);
        }
        if (col[FId] >= 0) {
            const std::string id = cellText(cell(FId));
            if (!id.empty())
                byId.emplace(id, r.users.size());
        }
        byEmail.emplace(u.email, r.users.size());
        r.users.push_back(std::move(u));
        badManager.push_back(std::move(badMgr));
    }

    // Managers by id (parentId, MANAGER_ID), else by user name.
    for (std::size_t i = 0; i < r.users.size(); ++i) {
        if (badManager[i].empty())
            continue;
        if (const auto it = byId.find(badManager[i]); it != byId.end()) {
            r.users[i].manager = r.users[it->second].email;
            badManager[i].clear();
        } else if (col[FId] >= 0 && withDomain(badManager[i], mgr)) {
            r.users[i].manager = mgr;
            badManager[i].clear();
        }
    }
    for (std::size_t i = 0; i < r.users.size(); ++i) {
        const OrgUserRecord& u = r.users[i];
        if (!badManager[i].empty())
            r.danglingManagers.push_back(u.email + " -> " + badManager[i]);
        else if (!u.manager.empty() && byEmail.find(u.manager) == byEmail.end())
            r.danglingManagers.push_back(u.email + " -> " + u.manager);
    }
}

} // namespace orgdetail

const std::vector<OrgFieldInfo>& orgFields()
{
    static const std::vector<OrgFieldInfo> f = {
        {"email", "E-mail address (or user name)", true,
         {"email", "mail", "emailaddress", "mailaddress", "primaryemail", "primaryemailaddress", "smtpaddress",
          "primarysmtpaddress", "workemail", "userprincipalname", "upn"}},
        {"unit", "Unit / department", true,
         {"unit", "unitpath", "department", "departmentpath", "dept", "orgunit", "organizationalunit",
          "organisationalunit", "ou", "division", "team", "departmentname", "deptname", "departmentid", "deptid"}},
        {"name", "Display name", false, {"name", "displayname", "fullname", "commonname", "cn", "employeename"}},
        {"manager", "Manager (e-mail, user name or id)", false,
         {"manager", "manageremail", "manageremailaddress", "managermail", "supervisoremail", "reportsto", "supervisor",
          "linemanager", "managerid", "parentid", "supervisorid", "manageremployeeid"}},
        {"workstation", "Workstation", false,
         {"workstation", "workstationname", "computer", "computername", "pc", "hostname", "device"}},
        {"server", "Mail server", false,
         {"server", "mailserver", "mailhost", "homeserver", "exchangeserver", "mailboxserver"}},
        {"id", "Person id (for a manager column holding ids)", false,
         {"id", "employeeid", "employeenumber", "empid", "personid", "staffid", "personnelnumber", "userid"}},
    };
    return f;
}

std::string orgHeaderKey(std::string_view header)
{
    std::string f = orgdetail::foldCase(orgdetail::trim(header));
    f.erase(std::remove_if(f.begin(), f.end(), [](char c) { return c == ' ' || c == '_' || c == '-' || c == '.'; }),
            f.end());
    return f;
}

bool validOrgDomain(std::string_view s)
{
    s = orgdetail::trim(s);
    if (!s.empty() && s.front() == '@')
        s.remove_prefix(1);
    if (s.size() < 3 || s.find('.') == std::string_view::npos || s.front() == '.' || s.back() == '.')
        return false;
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
            return false;
    return true;
}

OrgChartResult readOrgChartCsv(const QString& path, const OrgColumnMap& map)
{
    OrgChartResult r;
    std::string text;
    if (!orgdetail::loadText(path, text, r))
        return r;
    orgdetail::parseCsv(text, orgdetail::fileLabel(path), map, r);
    return r;
}

QStringList orgCsvHeaders(const QString& path)
{
    OrgChartResult scratch;
    std::string text;
    if (!orgdetail::loadText(path, text, scratch, std::int64_t(4) << 20)) // the header is near the top
        return {};
    QStringList out;
    for (const std::string& h : orgdetail::csvHeaderCells(text))
        out << QString::fromStdString(h);
    return out;
}

} // namespace mt
