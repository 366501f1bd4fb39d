#pragma once
// Zeek smtp.log (TSV with its #fields header, or JSON lines) and files.log.
//
// Zeek watches the wire, not a server's queue: each SMTP transaction it saw (uid plus
// trans_depth) becomes a copy on the observing sensor (the "server": TrafficContext's
// serverName, else "zeek"), with one delivery per RCPT TO towards the responder (relay =
// id.resp_h). The responder's reply ("250 OK id=..." from Exim, "queued as ..." from Postfix)
// names its queue id, so when that server's own log is in the case, link() follows the
// message into it. Transactions that never reached DATA are refused attempts, not messages.
// files.log, imported with (or before) smtp.log, gives attachment names by file id.
#include "TrafficParser.h"

namespace mt {

// Zeek's TSV header state: #separator, #set_separator, #empty_field, #unset_field, #fields.
class ZeekTsvHeader {
public:
    // True when the line is a header line (consumed).
    bool feedHeader(std::string_view line);
    bool hasFields() const { return !m_fields.empty(); }
    const std::string& path() const { return m_path; }
    int column(std::string_view name) const;
    // Splits a data line into its columns (unescaped; unset and empty fields become "").
    void split(std::string_view line, std::vector<std::string>& out) const;
    // A set/vector value into its elements.
    void splitSet(std::string_view value, std::vector<std::string>& out) const;
    std::size_t fieldCount() const { return m_fields.size(); }
    void reset() { *this = ZeekTsvHeader(); }

private:
    char m_sep = '\t';
    char m_setSep = ',';
    std::string m_empty = "(empty)";
    std::string m_unset = "-";
    std::string m_path;
    std::vector<std::string> m_fields;
};

class ZeekSmtpParser : public TrafficParser {
public:
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    TimeMs stampOf(std::string_view line) override;

    struct Transaction {
        std::string ts, uid, origH, respH, respP, transDepth, helo, mailfrom, from, msgId, subject, lastReply, node;
        std::vector<std::string> rcptto, fuids;
    };

private:
    Result record(const Transaction& t, std::string& why);
    bool fromJson(std::string_view line, Transaction& t, std::string& why);
    bool fromTsv(std::string_view line, Transaction& t, std::string& why);

    ZeekTsvHeader m_header;
    std::vector<std::string> m_cols;
    int m_ix[14] = {};
};

// files.log: fills the shared map (fuid -> filename, MIME type). Produces no copies.
class ZeekFilesParser : public TrafficParser {
public:
    explicit ZeekFilesParser(std::shared_ptr<ZeekFileMap> files) : m_files(std::move(files)) {}
    void beginFile(const TrafficContext& context) override;
    Result feed(std::string_view line, std::string& why) override;
    TimeMs stampOf(std::string_view line) override;

private:
    std::shared_ptr<ZeekFileMap> m_files;
    ZeekTsvHeader m_header;
    std::vector<std::string> m_cols;
};

} // namespace mt
