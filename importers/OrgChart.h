#pragma once
// Organisation-chart importers: a CSV export (HR system, spreadsheet) or an LDIF export of a
// directory (OpenLDAP, 389-ds, Active Directory's ldifde) in, one OrgUserRecord per person out.
//
// Nothing here knows about SQL or widgets. Bad input never throws and never crashes: a file
// that cannot be used at all comes back with failed = true and a reason naming the file; a
// malformed row or entry becomes a ParseIssue and the rest of the file still imports.
#include "model/domain/Records.h"

#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mt {

struct OrgChartResult {
    std::vector<OrgUserRecord> users;
    std::vector<ParseIssue> issues;            // malformed lines/entries: file, line, reason; the rest still imports
    std::vector<std::string> danglingManagers; // "user@x -> manager ref that resolves to nobody" (reported, not fatal)
    std::int64_t lines = 0;                    // physical lines in the file
    bool failed = false;                       // whole file unusable (unreadable, directory, no usable header, not an org chart)
    std::string failure;                       // reason, naming the file
};

// field -> source column header, e.g. {"email","E-Mail Address"},{"unit","Department Path"}.
// Fields: email, unit (required); name, manager, workstation, server, id (optional).
// Header comparison is case-insensitive and ignores surrounding blanks.
// Two keys are not columns:
//   "domain": the mail domain of e-mail cells that hold a bare user name ("SKING" with
//             domain corp.example -> sking@corp.example), and of managers given that way;
// and the manager column may hold the id (the "id" column) of another row (parentId,
// MANAGER_ID) instead of an address.
using OrgColumnMap = std::map<std::string, std::string>;

// The org chart CSV fields and the header spellings recognised without a column map: ONE
// table, used by the importer and by the GUI's column-mapping step alike.
struct OrgFieldInfo {
    const char* key;                  // the OrgColumnMap key: "email", "unit", ...
    const char* label;                // for the GUI ("E-mail address (or user name)")
    bool required;
    std::vector<std::string> aliases; // compared after orgHeaderKey(); the field's own name first
};
const std::vector<OrgFieldInfo>& orgFields();
// A header as the alias table spells it: case folded, blanks, '_', '-' and '.' removed.
std::string orgHeaderKey(std::string_view header);
// True when s can be the domain of --org-domain ("corp.example"; a leading '@' is allowed).
bool validOrgDomain(std::string_view s);

// CSV with a header row. Delimiter (',', ';', tab or '|') detected from the header line, or
// taken from an Excel "sep=;" first line. RFC 4180 quoting, UTF-8 with or without BOM (UTF-16
// with BOM and Windows-1252 are converted), CRLF/LF/CR. Without a map, a column is found by
// its field name or a common alias ("E-Mail", "Department", "Display Name", ...).
OrgChartResult readOrgChartCsv(const QString& path, const OrgColumnMap& map = {});

// LDIF (RFC 2849) as OpenLDAP, 389-ds and ldifde export it. Entries with a `mail` attribute
// are users; the rest (groups, OUs) are skipped silently. `manager` DNs are resolved to the
// manager's mail; unresolved ones go to danglingManagers and the record's manager stays empty.
OrgChartResult readOrgChartLdif(const QString& path);

// Detects the format by content (first significant line "dn:" or "version:" -> LDIF), else CSV.
OrgChartResult readOrgChart(const QString& path, const OrgColumnMap& map = {});

// The CSV's header cells (trimmed, in file order) for the GUI's column-mapping step. Empty
// when the file cannot be read or has no header.
QStringList orgCsvHeaders(const QString& path);

// Internals shared by the three translation units. Not part of the API.
namespace orgdetail {

// Reads the whole file (at most maxBytes when > 0) as UTF-8 text: BOM stripped, UTF-16
// converted, invalid UTF-8 read as Windows-1252 (an issue says so). Fills r.failed /
// r.failure and returns false for a missing, unreadable, empty, binary or directory path.
bool loadText(const QString& path, std::string& text, OrgChartResult& r, std::int64_t maxBytes = 0);

// The file name as reports show it.
std::string fileLabel(const QString& path);

// Trims, strips "Name <addr>" / "mailto:" / "smtp:" wrappers, lower-cases and validates.
// Returns false (out holds the trimmed input) when the result is not an e-mail address.
// spacesInLocalPart: accept blanks inside an unquoted local part ("Den_Van Vrouwerff@x"),
// which directories hold and mail servers log quoted; a CSV cell like that is more likely a
// name and an address run together, so the CSV importer does not pass it.
bool normaliseEmail(std::string_view in, std::string& out, bool spacesInLocalPart = false);

// "Sales / EMEA//Inside " -> "Sales/EMEA/Inside". Empty when nothing is left.
std::string normaliseUnitPath(std::string_view in);

std::string_view trim(std::string_view s);
// Lower case: ASCII fast path, Unicode case folding for anything else.
std::string foldCase(std::string_view s);
bool isValidUtf8(std::string_view s);
// Windows-1252 (a superset of Latin-1) bytes to UTF-8.
std::string latin1ToUtf8(std::string_view s);
// The first bytes of a line, cut at a character boundary, for ParseIssue::excerpt.
std::string excerpt(std::string_view line, std::size_t maxBytes = 120);

void addIssue(OrgChartResult& r, const std::string& file, std::int64_t line, std::string reason,
              std::string_view rawLine = {});

void parseCsv(std::string_view text, const std::string& file, const OrgColumnMap& map, OrgChartResult& r);
void parseLdif(std::string_view text, const std::string& file, OrgChartResult& r);
bool looksLikeLdif(std::string_view text);
// Header cells of CSV text (delimiter detection and "sep=" handled).
std::vector<std::string> csvHeaderCells(std::string_view text);

} // namespace orgdetail
} // namespace mt
