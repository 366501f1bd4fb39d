#pragma once
// Runs imports into a case: log files (one transaction each, in time order so rotations of
// one server join up) and org charts. Used by the CLI directly and by the GUI on a worker
// thread; progress is reported through a callback and cancel is a flag the caller sets.
#include "CaseStore.h"
#include "importers/LogFormat.h"
#include "importers/OrgChart.h"
#include "importers/PostfixLog.h"

#include <QStringList>
#include <atomic>
#include <map>
#include <memory>
#include <functional>
#include <string>
#include <vector>

namespace mt {

class LineReader;

struct ImportOptions {
    int year = 0;                  // year for classic syslog stamps; 0 = from each file's date
    std::map<QString, int> yearOfFile; // per file (as given, or its absolute path): overrides year
    std::string timeZone;          // zone of stamps without one (IANA id); empty = UTC
    OrgColumnMap orgColumns;       // CSV header mapping for org charts
    std::size_t maxIssuesPerFile = 20;
    // Which traffic format the logs are in. Postfix (the default, as before formats were
    // sniffed) reads every file as Postfix; Auto decides per file from its content; any other
    // value forces that format on every file.
    LogFormat format = LogFormat::Postfix;
    // Server name for logs that do not name their server (an Exim mainlog file, the Zeek
    // sensor); empty = from the file: its name without rotation suffixes, or its folder's name
    // when the file is called mainlog, main.log ... (e.g. mx1/mainlog -> "mx1").
    std::string serverName;
};

struct FileReport {
    ImportFileFigures figures;
    bool ok = false;
    bool cancelled = false;
    std::string error;                 // why the file was not imported (its changes were rolled back)
    std::vector<ParseIssue> issues;    // the first problems found (file, line, reason)
    std::vector<std::string> notices;  // not errors: "empty file", dangling managers ...
    std::int64_t messages = 0;         // copies written (Postfix) or users (org chart)
};

struct ImportReport {
    std::vector<FileReport> files;
    bool cancelled = false;
    bool anyFailed() const {
        for (const auto& f : files)
            if (!f.ok && !f.cancelled) return true;
        return false;
    }
    std::int64_t rejectedLines() const {
        std::int64_t n = 0;
        for (const auto& f : files) n += f.figures.rejected;
        return n;
    }
};

// One log line into the assembler, the way every import path does it (files here, live
// follow and syslog in model/live): overlong lines rejected, invalid UTF-8 repaired, the
// figures counted and the first problems kept with line number and excerpt.
class LogLineFeeder {
public:
    LogLineFeeder(PostfixAssembler& assembler, ImportFileFigures& figures, std::vector<ParseIssue>& issues,
                  std::size_t maxIssues)
        : m_assembler(assembler), m_figures(figures), m_issues(issues), m_maxIssues(maxIssues) {}

    // A line the reader had to cut (longer than its limit): rejected with its length.
    void rejectOverlong(std::string_view start, std::size_t length, std::int64_t lineNo);
    PostfixAssembler::Result feed(std::string_view line, std::int64_t lineNo);
    // For a caller that keeps another figures/issues per source.
    void retarget(ImportFileFigures& figures, std::vector<ParseIssue>& issues) {
        m_figures = std::ref(figures);
        m_issues = std::ref(issues);
    }

private:
    PostfixAssembler& m_assembler;
    std::reference_wrapper<ImportFileFigures> m_figures;
    std::reference_wrapper<std::vector<ParseIssue>> m_issues;
    std::size_t m_maxIssues;
    std::string m_why, m_fixed;
};

class ImportJob {
public:
    // done and total in bytes across all files of the call.
    using Progress = std::function<void(std::int64_t done, std::int64_t total, const QString& file)>;

    ImportJob(CaseStore& store, ImportOptions options = {});
    ~ImportJob();

    void setProgress(Progress p) { m_progress = std::move(p); }
    void setCancelFlag(const std::atomic_bool* cancel) { m_cancel = cancel; }

    ImportReport importLogs(const QStringList& paths);
    ImportReport importOrgCharts(const QStringList& paths);

    // The server name a log that does not name its own gets (see ImportOptions::serverName).
    static std::string serverNameFor(const QString& path);

private:
    ImportReport importPostfixLogs(const QStringList& paths);
    ImportReport importTrafficLogs(const std::vector<std::pair<QString, LogFormat>>& files);
    bool cancelled() const { return m_cancel && m_cancel->load(std::memory_order_relaxed); }
    // Inputs that are not regular files are opened once, before anything looks at them, and
    // kept here until their import reads them (a FIFO cannot be opened twice).
    void openStreams(const QStringList& paths);
    // The first bytes of path (a stream's from its kept reader); holder keeps a file's open.
    std::string_view headOf(const QString& path, std::unique_ptr<LineReader>& holder);
    // The reader the import reads (nullptr and error set when the input cannot be read or is
    // plainly not a text log).
    std::unique_ptr<LineReader> openInput(const QString& path, std::string& error);
    // The year of classic stamps asked for this file (0: infer it from the file's date).
    int yearFor(const QString& path) const;
    std::map<QString, std::unique_ptr<LineReader>> m_streams;

    CaseStore& m_store;
    ImportOptions m_options;
    Progress m_progress;
    const std::atomic_bool* m_cancel = nullptr;
};

} // namespace mt
