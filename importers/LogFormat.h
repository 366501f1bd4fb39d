#pragma once
// Which traffic-log format a file holds, decided from its first lines (never from its name),
// and the parser for each. `--format` (CLI) or ImportOptions::format overrides the guess.
#include "TrafficParser.h"

#include <QString>
#include <memory>
#include <string>
#include <vector>

namespace mt {

enum class LogFormat { Auto, Postfix, Exim, Zeek, ZeekFiles, Exchange, M365, Csv, Jsonl, Unsupported };

// "postfix", "exim", "zeek", "zeek-files", "exchange", "m365", "csv", "jsonl", "auto".
const char* formatName(LogFormat f);
// Accepts the names above (case-insensitive); false for anything else.
bool parseFormatName(std::string_view name, LogFormat& out);

struct FormatGuess {
    LogFormat format = LogFormat::Auto; // Auto: nothing recognised (the Postfix importer explains why)
    std::string reason;                 // why (for Unsupported: what the file is and what we read)
};

// From the first lines of a file (BOMs and comment lines allowed).
FormatGuess sniffLines(const std::vector<std::string>& lines);
// Reads up to 200 lines (gzip transparently) and sniffs them.
FormatGuess sniffFile(const QString& path);
// The same from the first bytes of an input (LineReader::head()), for inputs that can be read
// only once (a FIFO, process substitution).
FormatGuess sniffHead(std::string_view head);
// The first lines of head (at most maxLines, each cut at 4096 bytes; a last line cut by the
// end of head is dropped unless head is the whole input).
std::vector<std::string> headLines(std::string_view head, std::size_t maxLines, bool wholeInput);

// A parser for a non-Postfix format (nullptr for Postfix, Auto, Unsupported). Zeek files.log
// fills `zeekFiles`.
std::unique_ptr<TrafficParser> makeTrafficParser(LogFormat f, std::shared_ptr<ZeekFileMap> zeekFiles);

} // namespace mt
