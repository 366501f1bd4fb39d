#include "LogFormat.h"

#include "EximLog.h"
#include "ExchangeTracking.h"
#include "GenericCsv.h"
#include "LineReader.h"
#include "PostfixLog.h"
#include "ZeekSmtp.h"

#include <map>

namespace mt {

namespace {

struct Name {
    LogFormat format;
    const char* name;
};
constexpr Name kNames[] = {{LogFormat::Auto, "auto"},         {LogFormat::Postfix, "postfix"}, {LogFormat::Exim, "exim"},
                           // Sendmail's lines are read by the syslog reader that reads Postfix's.
                           {LogFormat::Postfix, "sendmail"},
                           {LogFormat::Zeek, "zeek"},         {LogFormat::ZeekFiles, "zeek-files"},
                           {LogFormat::Exchange, "exchange"}, {LogFormat::M365, "m365"},      {LogFormat::Csv, "csv"},
                           {LogFormat::Jsonl, "jsonl"},       {LogFormat::Unsupported, "unsupported"}};

bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

// Other MTAs we know by their syslog program or line shape, to say what a file is.
const char* foreignMta(std::string_view program, std::string_view message) {
    if (program.rfind("courier", 0) == 0) return "Courier";
    if (program.rfind("qmail", 0) == 0 || program == "rblsmtpd" || program == "tcpserver") return "qmail";
    if (program.rfind("opensmtpd", 0) == 0 || (program == "smtpd" && contains(message, " smtp "))) return "OpenSMTPD";
    if (program.rfind("MailEnable", 0) == 0) return "MailEnable";
    return nullptr;
}

} // namespace

const char* formatName(LogFormat f) {
    for (const auto& n : kNames)
        if (n.format == f) return n.name;
    return "auto";
}

bool parseFormatName(std::string_view name, LogFormat& out) {
    const std::string n = traffic::lower(traffic::trim(name));
    for (const auto& k : kNames)
        if (n == k.name && k.format != LogFormat::Unsupported) {
            out = k.format;
            return true;
        }
    return false;
}

FormatGuess sniffLines(const std::vector<std::string>& lines) {
    int exim = 0, postfix = 0, sendmail = 0, syslogOther = 0, domino = 0, data = 0;
    std::map<std::string, int> foreign;
    std::string firstData;
    SyslogFraming framing;
    framing.setReference(2000, 12, true);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        std::string_view line = stripBom(lines[i]);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
        if (line.empty()) continue;
        // Headers that name the format outright.
        if (line.rfind("#Software: Microsoft Exchange", 0) == 0 || line.rfind("#Log-type: Message Tracking", 0) == 0
            || (line.rfind("#Fields:", 0) == 0 && contains(line, "event-id")))
            return {LogFormat::Exchange, "Exchange message tracking header"};
        if (line.rfind("#path", 0) == 0) {
            const std::string_view path = traffic::trim(line.substr(5));
            if (path == "smtp") return {LogFormat::Zeek, "Zeek #path smtp"};
            if (path == "files") return {LogFormat::ZeekFiles, "Zeek #path files"};
            return {LogFormat::Unsupported, "a Zeek '" + std::string(path) + "' log: only smtp.log and files.log carry mail"};
        }
        if (line.rfind("#fields", 0) == 0 && contains(line, "mailfrom") && contains(line, "uid"))
            return {LogFormat::Zeek, "Zeek #fields of smtp.log"};
        if (line[0] == '#') continue; // comments, #TYPE, ### BTest, #separator ...
        ++data;
        if (firstData.empty()) firstData = std::string(line.substr(0, 120));
        if (line[0] == '{') {
            traffic::JsonObject o;
            std::string why;
            if (o.parse(line, why)) {
                const std::string path = o.value("_path");
                if (path == "smtp" || (o.has("uid") && o.has("trans_depth"))) return {LogFormat::Zeek, "Zeek smtp JSON"};
                if (path == "files" || (o.has("fuid") && (o.has("mime_type") || o.has("filename")) && !o.has("mailfrom")))
                    return {LogFormat::ZeekFiles, "Zeek files JSON"};
                if (o.has("time") && o.has("server")) return {LogFormat::Jsonl, "JSON lines with time and server"};
                if (!path.empty())
                    return {LogFormat::Unsupported, "a Zeek '" + path + "' log: only smtp.log and files.log carry mail"};
            }
            continue;
        }
        // A CSV header.
        if (data == 1 && (contains(line, ",") || contains(line, ";") || contains(line, "\t"))) {
            const std::string l = traffic::lower(line);
            if ((contains(l, "recipientaddress") && (contains(l, "messagetraceid") || contains(l, "senderaddress")))
                || contains(l, "origin_timestamp_utc") || (contains(l, "recipient_status") && contains(l, "network_message_id")))
                return {LogFormat::M365, "Microsoft 365 message trace header"};
            if (contains(l, "time") && contains(l, "server") && (contains(l, "queue_id") || contains(l, "message_id")))
                return {LogFormat::Csv, "CSV header with time, server and queue_id/message_id"};
        }
        // Exim's own stamp "YYYY-MM-DD HH:MM:SS" then an id, a flag or Exim's phrases.
        if (line.size() > 20 && line[4] == '-' && line[7] == '-' && line[10] == ' ' && line[13] == ':') {
            EximParser probe;
            const TimeMs t = probe.stampOf(line);
            if (t != kNoTime) {
                std::string_view rest = line.substr(19);
                if (contains(rest, "   SMTP Server") || contains(rest, "   smtp: ") || contains(rest, "   Router:")) {
                    ++domino;
                } else {
                    ++exim;
                }
                continue;
            }
        }
        if (contains(line, "   SMTP Server") || contains(line, "   smtp: ")) {
            ++domino;
            continue;
        }
        SyslogLine sl;
        const char* why = nullptr;
        if (framing.parse(line, sl, why)) {
            if (sl.program.rfind("postfix", 0) == 0 || contains(sl.program, "/smtpd") || contains(sl.program, "/qmgr")
                || contains(sl.program, "/cleanup") || contains(sl.program, "/smtp"))
                ++postfix;
            else if (sl.program == "sendmail" || sl.program == "sm-mta" || sl.program == "sm-msp-queue")
                ++sendmail;
            else if (sl.program.rfind("exim", 0) == 0)
                ++exim;
            else if (const char* mta = foreignMta(sl.program, sl.message))
                ++foreign[mta];
            else
                ++syslogOther;
        }
    }
    if (postfix > 0 && postfix >= exim) return {LogFormat::Postfix, "syslog lines of Postfix"};
    if (sendmail > 0 && sendmail >= exim) return {LogFormat::Postfix, "syslog lines of Sendmail (read with Postfix's)"};
    if (exim > 0 && exim >= domino) return {LogFormat::Exim, "Exim main log lines"};
    const std::string supported = " (supported: postfix, sendmail, exim, zeek, exchange, m365, csv, jsonl)";
    if (domino > 0) return {LogFormat::Unsupported, "a Lotus Domino SMTP log: this MTA's format is not supported" + supported};
    if (!foreign.empty()) {
        std::string names;
        for (const auto& [n, count] : foreign) names += (names.empty() ? "" : ", ") + n + " (" + std::to_string(count) + " lines)";
        return {LogFormat::Unsupported, "syslog lines of " + names + ": this MTA's format is not supported" + supported};
    }
    return {LogFormat::Auto, data ? "no known format in the first lines" : "no data lines"};
}

FormatGuess sniffFile(const QString& path) {
    LineReader reader(path);
    if (!reader.open()) return {LogFormat::Auto, reader.error()};
    return sniffHead(reader.head());
}

std::vector<std::string> headLines(std::string_view head, std::size_t maxLines, bool wholeInput) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (lines.size() < maxLines && pos < head.size()) {
        const std::size_t nl = head.find('\n', pos);
        if (nl == std::string_view::npos && !wholeInput) break; // cut by the end of the head
        std::string_view line = head.substr(pos, nl == std::string_view::npos ? head.size() - pos : nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.emplace_back(line.substr(0, 4096));
        if (nl == std::string_view::npos) break;
        pos = nl + 1;
    }
    return lines;
}

FormatGuess sniffHead(std::string_view head) {
    return sniffLines(headLines(head, 200, head.size() < LineReader::kHeadBytes));
}

std::unique_ptr<TrafficParser> makeTrafficParser(LogFormat f, std::shared_ptr<ZeekFileMap> zeekFiles) {
    switch (f) {
    case LogFormat::Exim: return std::make_unique<EximParser>();
    case LogFormat::Zeek: return std::make_unique<ZeekSmtpParser>();
    case LogFormat::ZeekFiles: return std::make_unique<ZeekFilesParser>(std::move(zeekFiles));
    case LogFormat::Exchange: return std::make_unique<ExchangeTrackingParser>();
    case LogFormat::M365: return std::make_unique<M365TraceParser>();
    case LogFormat::Csv: return std::make_unique<GenericCsvParser>();
    case LogFormat::Jsonl: return std::make_unique<GenericJsonlParser>();
    default: return nullptr;
    }
}

} // namespace mt
