#include "ImportJob.h"

#include "importers/LineReader.h"
#include "importers/PostfixLog.h"

#include <QDate>
#include <QDir>
#include <QRegularExpression>
#include <QTimeZone>
#include <QElapsedTimer>
#include <QFileInfo>
#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>

namespace mt {

namespace {

constexpr std::size_t kCopyBatch = 20000;
constexpr std::int64_t kForeignOnlyLimit = 20;

std::string foreignSummary(const std::map<std::string, std::int64_t>& programs) {
    std::string out;
    for (const auto& [name, n] : programs) {
        if (!out.empty()) out += ", ";
        out += name + " (" + std::to_string(n) + ")";
        if (out.size() > 200) break;
    }
    return out.empty() ? "none" : out;
}

// Fast check: pure ASCII lines (the vast majority) skip the UTF-8 validation.
bool isValidUtf8(std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* end = p + s.size();
    while (p < end) {
        if (*p < 0x80) { ++p; continue; }
        int n = 0;
        if ((*p & 0xE0) == 0xC0) n = 1;
        else if ((*p & 0xF0) == 0xE0) n = 2;
        else if ((*p & 0xF8) == 0xF0) n = 3;
        else return false;
        if (*p == 0xC0 || *p == 0xC1 || *p > 0xF4) return false;
        if (end - p <= n) return false;
        for (int i = 1; i <= n; ++i)
            if ((p[i] & 0xC0) != 0x80) return false;
        p += n + 1;
    }
    return true;
}

bool hasHighBit(std::string_view s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) & 0x80) return true;
    return false;
}

std::string sanitiseUtf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) { out.push_back(static_cast<char>(c)); ++i; continue; }
        std::size_t n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n && i + n <= s.size() && isValidUtf8(s.substr(i, n))) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out.append("\xEF\xBF\xBD"); // U+FFFD
            ++i;
        }
    }
    return out;
}

std::string excerptOf(std::string_view line) {
    std::string e = sanitiseUtf8(line.substr(0, 160));
    for (char& c : e)
        if (c == '\0' || c == '\t' || c == '\r') c = ' ';
    return e;
}

struct Peek {
    QString path;
    TimeMs first = kNoTime;
};

// What the year of classic stamps ("Dec 24 09:00:01") is taken from, for one file.
struct YearReference {
    int year = 1970, month = 12, day = 31;
    bool forced = false;
    QDate date; // the reference date when inferred
    bool stream = false;
};

// A forced year, or the file's modification date in the logs' zone (a stream's: today): a
// stamp is never placed after that date.
YearReference yearReference(const QString& path, int forcedYear, bool stream, const std::string& zone) {
    YearReference r;
    if (forcedYear) {
        r.year = forcedYear;
        r.forced = true;
        return r;
    }
    QDateTime when = stream ? QDateTime::currentDateTimeUtc() : QFileInfo(path).lastModified().toUTC();
    if (!zone.empty() && zone != "UTC") {
        const QTimeZone tz(QByteArray::fromStdString(zone));
        if (tz.isValid()) when = when.toTimeZone(tz);
    }
    r.date = when.date();
    r.year = r.date.year();
    r.month = r.date.month();
    r.day = r.date.day();
    r.stream = stream;
    return r;
}

void applyReference(SyslogFraming& framing, const YearReference& r) { framing.setReference(r.year, r.month, r.forced, r.day); }

void applyReference(TrafficContext& ctx, const YearReference& r) {
    ctx.referenceYear = r.year;
    ctx.referenceMonth = r.month;
    ctx.referenceDay = r.day;
    ctx.yearForced = r.forced;
}

// For the import summary: where the year of the file's classic stamps came from.
std::string yearNotice(const YearReference& r, const SyslogFraming& framing) {
    const std::int64_t n = framing.classicStamps();
    if (n == 0) return {};
    const std::string lines = std::to_string(n) + " line" + (n == 1 ? "" : "s");
    if (r.forced)
        return "year of classic syslog stamps (no year in the log): " + std::to_string(r.year) + " as given by --year ("
               + lines + ")";
    const std::string date = r.date.toString(Qt::ISODate).toStdString();
    std::string s = "year of classic syslog stamps (no year in the log) inferred from "
                    + std::string(r.stream ? "the date it was read, " : "the file's modification date, ") + date
                    + ": stamps up to that day are " + std::to_string(r.year) + ", later days of the year "
                    + std::to_string(r.year - 1) + " (" + std::to_string(framing.earlierYearStamps()) + " of " + lines
                    + "); if that is wrong, set the year (CLI: --year FILE=YYYY)";
    return s;
}

// The time of the first readable syslog line, to put a server's rotations in order.
TimeMs firstStamp(std::string_view head, const YearReference& ref, const std::string& zone) {
    SyslogFraming framing;
    applyReference(framing, ref);
    framing.setTimeZone(zone);
    SyslogLine sl;
    const char* why = nullptr;
    for (const std::string& line : headLines(head, 200, head.size() < LineReader::kHeadBytes))
        if (framing.parse(line, sl, why)) return sl.time;
    return kNoTime;
}

bool isStreamPath(const QString& path) {
    struct stat st {};
    return ::stat(QFile::encodeName(path).constData(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

} // namespace

void LogLineFeeder::rejectOverlong(std::string_view start, std::size_t length, std::int64_t lineNo) {
    ImportFileFigures& f = m_figures;
    ++f.lines;
    ++f.rejected;
    if (m_issues.get().size() < m_maxIssues)
        m_issues.get().push_back({f.path, lineNo,
                                  "line of " + std::to_string(length) + " bytes is longer than the 64 KiB limit",
                                  excerptOf(start)});
}

PostfixAssembler::Result LogLineFeeder::feed(std::string_view line, std::int64_t lineNo) {
    ImportFileFigures& f = m_figures;
    std::vector<ParseIssue>& issues = m_issues;
    ++f.lines;
    if (hasHighBit(line) && !isValidUtf8(line)) {
        m_fixed = sanitiseUtf8(line);
        line = m_fixed;
        if (issues.size() < m_maxIssues)
            issues.push_back({f.path, lineNo, "invalid UTF-8; the bad bytes were replaced with U+FFFD", excerptOf(line)});
    }
    const PostfixAssembler::Result r = m_assembler.feed(line, m_why);
    switch (r) {
    case PostfixAssembler::Result::Accepted: ++f.accepted; break;
    case PostfixAssembler::Result::Skipped: ++f.skipped; break;
    case PostfixAssembler::Result::Rejected:
        ++f.rejected;
        if (issues.size() < m_maxIssues) issues.push_back({f.path, lineNo, m_why, excerptOf(line)});
        break;
    }
    return r;
}

ImportJob::ImportJob(CaseStore& store, ImportOptions options) : m_store(store), m_options(std::move(options)) {}
ImportJob::~ImportJob() = default;

void ImportJob::openStreams(const QStringList& paths) {
    for (const QString& p : paths) {
        if (m_streams.count(p) || !isStreamPath(p)) continue;
        auto reader = std::make_unique<LineReader>(p);
        reader->open(); // a failure is reported by openInput()
        m_streams.emplace(p, std::move(reader));
    }
}

std::string_view ImportJob::headOf(const QString& path, std::unique_ptr<LineReader>& holder) {
    if (auto it = m_streams.find(path); it != m_streams.end()) return it->second->head();
    holder = std::make_unique<LineReader>(path);
    if (!holder->open()) return {};
    return holder->head();
}

std::unique_ptr<LineReader> ImportJob::openInput(const QString& path, std::string& error) {
    std::unique_ptr<LineReader> reader;
    if (auto it = m_streams.find(path); it != m_streams.end()) {
        reader = std::move(it->second);
        m_streams.erase(it);
        if (!reader->error().empty() && reader->head().empty()) {
            error = reader->error();
            return nullptr;
        }
    } else {
        reader = std::make_unique<LineReader>(path);
        if (!reader->open()) {
            error = reader->error();
            return nullptr;
        }
    }
    if (const char* kind = binaryKind(reader->head())) {
        // NUL bytes alone are not proof: a log whose disk filled with zeros after a power cut
        // still has readable lines among them, and those are kept.
        const bool nulOnly = std::string_view(kind).rfind("binary data", 0) == 0;
        const LogFormat f = nulOnly ? sniffHead(reader->head()).format : LogFormat::Auto;
        if (!nulOnly || f == LogFormat::Auto || f == LogFormat::Unsupported) {
            error = std::string("not a log: ") + kind;
            return nullptr;
        }
    }
    return reader;
}

int ImportJob::yearFor(const QString& path) const {
    if (auto it = m_options.yearOfFile.find(path); it != m_options.yearOfFile.end()) return it->second;
    if (auto it = m_options.yearOfFile.find(QFileInfo(path).absoluteFilePath()); it != m_options.yearOfFile.end())
        return it->second;
    return m_options.year;
}

namespace {

// Parsed copies handed from the parsing thread to the writing one. Bounded, so a fast parser
// cannot run ahead of SQLite by more than a few batches of memory.
class CopyQueue {
public:
    struct Batch {
        std::vector<CopyRecord> copies;
        bool last = false;
    };
    void push(Batch b) {
        std::unique_lock lock(m_mutex);
        m_notFull.wait(lock, [&] { return m_aborted || m_batches.size() < kCapacity; });
        if (m_aborted) return;
        m_batches.push_back(std::move(b));
        m_notEmpty.notify_one();
    }
    Batch pop() {
        std::unique_lock lock(m_mutex);
        m_notEmpty.wait(lock, [&] { return !m_batches.empty(); });
        Batch b = std::move(m_batches.front());
        m_batches.pop_front();
        m_notFull.notify_one();
        return b;
    }
    // A written batch goes back to the parsing thread, which empties it and fills it again:
    // its strings were allocated there, and freeing them there keeps that work (a few
    // microseconds a copy) off the writing thread, which is the slower of the two.
    void recycle(std::vector<CopyRecord>&& copies) {
        std::lock_guard lock(m_mutex);
        if (m_aborted || m_spent.size() >= kCapacity) return; // dropped here instead
        m_spent.push_back(std::move(copies));
    }
    // Puts an emptied written batch (if any) into `to`, which must be empty.
    void reuse(std::vector<CopyRecord>& to) {
        std::vector<CopyRecord> spent;
        {
            std::lock_guard lock(m_mutex);
            if (m_spent.empty()) return;
            spent = std::move(m_spent.front());
            m_spent.pop_front();
        }
        spent.clear();
        to = std::move(spent);
    }
    // The writer gave up: let the parser finish without blocking.
    void abort() {
        std::lock_guard lock(m_mutex);
        m_aborted = true;
        m_notFull.notify_all();
    }
    bool aborted() {
        std::lock_guard lock(m_mutex);
        return m_aborted;
    }

private:
    static constexpr std::size_t kCapacity = 4;
    std::mutex m_mutex;
    std::condition_variable m_notFull, m_notEmpty;
    std::deque<Batch> m_batches;
    std::deque<std::vector<CopyRecord>> m_spent;
    bool m_aborted = false;
};

// What the parsing thread found in one file, read by the writer once the thread has ended.
struct ParseOutcome {
    std::int64_t postfixLines = 0;
    bool notALog = false;
    std::map<std::string, std::int64_t> foreignPrograms;
};

} // namespace

ImportReport ImportJob::importPostfixLogs(const QStringList& paths) {
    ImportReport report;
    // Oldest first: mail.log.2.gz, mail.log.1, mail.log, so a message that crosses a rotation
    // is assembled from both files. Unreadable files sort first and fail on their own.
    std::vector<Peek> order;
    std::int64_t totalBytes = 0;
    openStreams(paths);
    for (const QString& p : paths) {
        std::unique_ptr<LineReader> holder;
        const std::string_view head = headOf(p, holder);
        order.push_back({p, firstStamp(head, yearReference(p, yearFor(p), isStreamPath(p), m_options.timeZone),
                                       m_options.timeZone)});
        totalBytes += QFileInfo(p).size();
    }
    std::stable_sort(order.begin(), order.end(), [](const Peek& a, const Peek& b) { return a.first < b.first; });

    PostfixAssembler assembler;
    // Messages an earlier import left half-read (its log ended at a rotation) continue here.
    for (CopyRecord& open : m_store.openCopies()) assembler.seedOpen(std::move(open));
    std::int64_t doneBytes = 0;
    for (const Peek& peek : order) {
        FileReport fr;
        const QFileInfo fi(peek.path);
        fr.figures.path = peek.path.toStdString();
        fr.figures.kind = "postfix";
        fr.figures.size = fi.size();
        if (cancelled()) {
            fr.cancelled = true;
            fr.error = "cancelled before it started";
            report.cancelled = true;
            report.files.push_back(std::move(fr));
            continue;
        }
        std::unique_ptr<LineReader> input = openInput(peek.path, fr.error);
        if (!input) {
            report.files.push_back(std::move(fr));
            continue;
        }
        LineReader& reader = *input;
        const YearReference yearRef = yearReference(peek.path, yearFor(peek.path), reader.isStream(), m_options.timeZone);
        applyReference(assembler.framing(), yearRef);
        if (!assembler.framing().setTimeZone(m_options.timeZone)) {
            fr.error = "unknown time zone '" + m_options.timeZone + "'";
            report.files.push_back(std::move(fr));
            continue;
        }

        // Parsing runs on its own thread while this one writes: on two cores the parse is
        // almost free next to SQLite.
        CopyQueue queue;
        ParseOutcome outcome;
        std::atomic<std::int64_t> bytesRead{0};
        auto parse = [&] {
            std::string_view line;
            auto& f = fr.figures;
            LogLineFeeder feeder(assembler, f, fr.issues, m_options.maxIssuesPerFile);
            while (reader.next(line)) {
                if (reader.lastLineTruncated()) {
                    feeder.rejectOverlong(line, reader.lastLineLength(), reader.lineNumber());
                    continue;
                }
                switch (feeder.feed(line, reader.lineNumber())) {
                case PostfixAssembler::Result::Accepted:
                    ++outcome.postfixLines;
                    break;
                case PostfixAssembler::Result::Skipped:
                    if (outcome.postfixLines == 0 && outcome.foreignPrograms.size() < 8) {
                        SyslogFraming probe;
                        SyslogLine sl;
                        const char* ignored = nullptr;
                        if (probe.parse(line, sl, ignored)) ++outcome.foreignPrograms[std::string(sl.program)];
                    }
                    break;
                case PostfixAssembler::Result::Rejected:
                    break;
                }
                // A file whose first thousand lines are all unreadable is not a log at all.
                if (f.lines == 1000 && f.accepted == 0 && f.skipped == 0) {
                    outcome.notALog = true;
                    break;
                }
                if ((f.lines & 0x3FFF) == 0) {
                    bytesRead.store(reader.bytesRead(), std::memory_order_relaxed);
                    if (cancelled() || queue.aborted()) break;
                }
                if (assembler.completed().size() >= kCopyBatch) {
                    queue.push({std::move(assembler.completed()), false});
                    assembler.completed().clear();
                    queue.reuse(assembler.completed());
                }
            }
            CopyQueue::Batch last{std::move(assembler.completed()), true};
            assembler.completed().clear();
            assembler.snapshotOpen(last.copies); // still open: written as they stand, merged later
            queue.push(std::move(last));
        };

        std::thread parser;
        try {
            m_store.beginFile(fr.figures);
            parser = std::thread(parse);
            for (;;) {
                CopyQueue::Batch batch = queue.pop();
                if (cancelled()) break;
                fr.messages += static_cast<std::int64_t>(batch.copies.size());
                m_store.writeCopies(batch.copies);
                if (m_progress) m_progress(doneBytes + bytesRead.load(std::memory_order_relaxed), totalBytes, peek.path);
                if (batch.last) break;
                queue.recycle(std::move(batch.copies));
            }
            queue.abort();
            parser.join();
            auto& f = fr.figures;
            if (cancelled()) {
                m_store.rollbackFile();
                assembler.dropOpen();
                assembler.rejects().clear();
                fr.cancelled = true;
                fr.error = "cancelled; nothing from this file was kept";
                report.cancelled = true;
                report.files.push_back(std::move(fr));
                continue;
            }
            if (!reader.error().empty())
                throw std::runtime_error(reader.error() + " (after line " + std::to_string(reader.lineNumber()) + ")");
            if (f.lines == 0) {
                m_store.rollbackFile();
                fr.ok = true;
                fr.messages = 0;
                fr.notices.push_back("empty file: nothing to import");
                report.files.push_back(std::move(fr));
                doneBytes += f.size;
                continue;
            }
            if (outcome.notALog || (f.accepted == 0 && f.skipped == 0)) {
                const ParseIssue& first = fr.issues.front();
                throw std::runtime_error("not a syslog or Postfix log: line " + std::to_string(first.line) + ": "
                                         + first.reason);
            }
            // A rotation set has small files (mail.err) with other daemons' lines only: fine. A
            // big file without a single Postfix line is the wrong input (another MTA's log).
            if (outcome.postfixLines == 0 && f.skipped > kForeignOnlyLimit)
                throw std::runtime_error("no Postfix lines among " + std::to_string(f.lines) + " lines (programs seen: "
                                         + foreignSummary(outcome.foreignPrograms) + "): not a Postfix log");
            if (outcome.postfixLines == 0)
                fr.notices.push_back("no Postfix lines; " + std::to_string(f.skipped) + " other lines skipped");
            if (std::string n = yearNotice(yearRef, assembler.framing()); !n.empty()) fr.notices.push_back(std::move(n));
            m_store.writeRejects(assembler.rejects());
            assembler.rejects().clear();
            m_store.writeIssues(fr.issues);
            m_store.commitFile(f);
            fr.ok = true;
        } catch (const std::exception& e) {
            queue.abort();
            if (parser.joinable()) {
                // Drain so a parser blocked on a full queue can finish.
                parser.join();
            }
            m_store.rollbackFile();
            assembler.dropOpen();
            assembler.completed().clear();
            assembler.rejects().clear();
            fr.ok = false;
            fr.error = e.what();
        }
        doneBytes += fr.figures.size;
        if (m_progress) m_progress(doneBytes, totalBytes, peek.path);
        report.files.push_back(std::move(fr));
    }
    return report;
}

std::string ImportJob::serverNameFor(const QString& path) {
    const QFileInfo fi(path);
    QString name = fi.fileName();
    // Rotation and compression suffixes: mainlog.1.gz, mx1.log-20261122, main.log.2
    static const QRegularExpression suffix(QStringLiteral("(\\.gz|\\.[0-9]+|-[0-9]{8}|\\.log|\\.txt|\\.json|\\.ndjson|\\.csv)$"),
                                           QRegularExpression::CaseInsensitiveOption);
    for (int i = 0; i < 6; ++i) {
        const QString before = name;
        name.remove(suffix);
        if (name == before) break;
    }
    static const QStringList generic = {QStringLiteral("mainlog"), QStringLiteral("main"), QStringLiteral("exim_mainlog"),
                                        QStringLiteral("exim"), QStringLiteral("mail"), QStringLiteral("maillog"),
                                        QStringLiteral("log"), QStringLiteral("smtp"), QStringLiteral("files")};
    if (name.isEmpty() || generic.contains(name, Qt::CaseInsensitive)) name = fi.absoluteDir().dirName();
    return name.toLower().toStdString();
}

ImportReport ImportJob::importLogs(const QStringList& paths) {
    openStreams(paths);
    if (m_options.format == LogFormat::Postfix) return importPostfixLogs(paths);
    QStringList postfix;
    std::vector<std::pair<QString, LogFormat>> others;
    ImportReport refused;
    for (const QString& p : paths) {
        LogFormat f = m_options.format;
        if (f == LogFormat::Auto) {
            std::unique_ptr<LineReader> holder;
            const std::string_view head = headOf(p, holder);
            const FormatGuess g = head.empty() && holder ? FormatGuess{LogFormat::Auto, holder->error()} : sniffHead(head);
            f = g.format;
            if (f == LogFormat::Unsupported) {
                FileReport fr;
                fr.figures.path = p.toStdString();
                fr.figures.kind = "unsupported";
                fr.figures.size = QFileInfo(p).size();
                fr.error = g.reason;
                refused.files.push_back(std::move(fr));
                continue;
            }
        }
        // Nothing recognised: the Postfix importer reads it and says what is wrong with it.
        if (f == LogFormat::Postfix || f == LogFormat::Auto) postfix.append(p);
        else others.emplace_back(p, f);
    }
    ImportReport report = postfix.isEmpty() ? ImportReport() : importPostfixLogs(postfix);
    if (!others.empty()) {
        ImportReport more = importTrafficLogs(others);
        report.cancelled = report.cancelled || more.cancelled;
        for (auto& f : more.files) report.files.push_back(std::move(f));
    }
    for (auto& f : refused.files) report.files.push_back(std::move(f));
    return report;
}

ImportReport ImportJob::importTrafficLogs(const std::vector<std::pair<QString, LogFormat>>& files) {
    ImportReport report;
    auto zeekFiles = std::make_shared<ZeekFileMap>();
    std::map<LogFormat, std::unique_ptr<TrafficParser>> parsers;
    auto parserFor = [&](LogFormat f) -> TrafficParser& {
        auto& p = parsers[f];
        if (!p) p = makeTrafficParser(f, zeekFiles);
        return *p;
    };
    // Zeek files.log before the smtp.log that refers to it; then per format oldest first, so
    // that a message crossing a rotation continues in the next file.
    struct Item {
        QString path;
        LogFormat format;
        TimeMs first = kNoTime;
    };
    std::vector<Item> order;
    std::int64_t totalBytes = 0;
    for (const auto& [path, format] : files) {
        Item it{path, format};
        std::unique_ptr<LineReader> holder;
        const std::string_view head = headOf(path, holder);
        if (!head.empty()) {
            auto probe = makeTrafficParser(format, std::make_shared<ZeekFileMap>());
            TrafficContext ctx;
            ctx.timeZone = m_options.timeZone;
            applyReference(ctx, yearReference(path, yearFor(path), isStreamPath(path), m_options.timeZone));
            probe->beginFile(ctx);
            for (const std::string& line : headLines(head, 200, head.size() < LineReader::kHeadBytes)) {
                it.first = probe->stampOf(line);
                if (it.first != kNoTime) break;
            }
        }
        totalBytes += QFileInfo(path).size();
        order.push_back(std::move(it));
    }
    std::stable_sort(order.begin(), order.end(), [](const Item& a, const Item& b) {
        const bool af = a.format == LogFormat::ZeekFiles, bf = b.format == LogFormat::ZeekFiles;
        if (af != bf) return af;
        return a.first < b.first;
    });

    std::int64_t doneBytes = 0;
    for (const Item& item : order) {
        FileReport fr;
        const QFileInfo fi(item.path);
        fr.figures.path = item.path.toStdString();
        fr.figures.kind = formatName(item.format);
        fr.figures.size = fi.size();
        if (cancelled()) {
            fr.cancelled = true;
            fr.error = "cancelled before it started";
            report.cancelled = true;
            report.files.push_back(std::move(fr));
            continue;
        }
        std::unique_ptr<LineReader> input = openInput(item.path, fr.error);
        if (!input) {
            report.files.push_back(std::move(fr));
            continue;
        }
        LineReader& reader = *input;
        if (!m_options.timeZone.empty() && !QTimeZone(QByteArray::fromStdString(m_options.timeZone)).isValid()) {
            fr.error = "unknown time zone '" + m_options.timeZone + "'";
            report.files.push_back(std::move(fr));
            continue;
        }
        TrafficParser& parser = parserFor(item.format);
        TrafficContext ctx;
        ctx.timeZone = m_options.timeZone;
        applyReference(ctx, yearReference(item.path, yearFor(item.path), reader.isStream(), m_options.timeZone));
        ctx.zeekFiles = zeekFiles;
        ctx.serverName = !m_options.serverName.empty() ? m_options.serverName
                         : item.format == LogFormat::Exim ? serverNameFor(item.path)
                                                          : std::string();
        parser.beginFile(ctx);

        // As for Postfix: parsing on its own thread, writing on this one.
        CopyQueue queue;
        bool notThisFormat = false;
        std::atomic<std::int64_t> bytesRead{0};
        const auto zeekFilesBefore = zeekFiles->size();
        auto parse = [&] {
            std::string_view line;
            std::string why, fixed;
            auto& f = fr.figures;
            while (reader.next(line)) {
                ++f.lines;
                if (reader.lastLineTruncated()) {
                    ++f.rejected;
                    if (fr.issues.size() < m_options.maxIssuesPerFile)
                        fr.issues.push_back({f.path, reader.lineNumber(),
                                             "line of " + std::to_string(reader.lastLineLength())
                                                 + " bytes is longer than the 64 KiB limit",
                                             excerptOf(line)});
                    continue;
                }
                if (hasHighBit(line) && !isValidUtf8(line)) {
                    fixed = sanitiseUtf8(line);
                    line = fixed;
                    if (fr.issues.size() < m_options.maxIssuesPerFile)
                        fr.issues.push_back({f.path, reader.lineNumber(),
                                             "invalid UTF-8; the bad bytes were replaced with U+FFFD", excerptOf(line)});
                }
                why.clear();
                switch (parser.feed(line, why)) {
                case TrafficParser::Result::Accepted: ++f.accepted; break;
                case TrafficParser::Result::Skipped: ++f.skipped; break;
                case TrafficParser::Result::Rejected:
                    ++f.rejected;
                    if (fr.issues.size() < m_options.maxIssuesPerFile)
                        fr.issues.push_back({f.path, reader.lineNumber(), why, excerptOf(line)});
                    break;
                }
                // A file whose first thousand lines are all unreadable is not this format (lines
                // read and skipped, such as Zeek sessions without MAIL FROM, are the format's).
                if (f.lines == 1000 && f.accepted == 0 && f.skipped == 0) {
                    notThisFormat = true;
                    break;
                }
                if ((f.lines & 0x3FFF) == 0) {
                    bytesRead.store(reader.bytesRead(), std::memory_order_relaxed);
                    if (cancelled() || queue.aborted()) break;
                }
                if (parser.completed().size() >= kCopyBatch) {
                    queue.push({std::move(parser.completed()), false});
                    parser.completed().clear();
                    queue.reuse(parser.completed());
                }
            }
            parser.endFile();
            CopyQueue::Batch last{std::move(parser.completed()), true};
            parser.completed().clear();
            parser.snapshotOpen(last.copies); // still open: written as they stand, merged later
            queue.push(std::move(last));
        };

        std::thread worker;
        try {
            m_store.beginFile(fr.figures);
            worker = std::thread(parse);
            for (;;) {
                CopyQueue::Batch batch = queue.pop();
                if (cancelled()) break;
                fr.messages += static_cast<std::int64_t>(batch.copies.size());
                m_store.writeCopies(batch.copies);
                if (m_progress)
                    m_progress(doneBytes + bytesRead.load(std::memory_order_relaxed), totalBytes, item.path);
                if (batch.last) break;
                queue.recycle(std::move(batch.copies));
            }
            queue.abort();
            worker.join();
            auto& f = fr.figures;
            if (cancelled()) {
                m_store.rollbackFile();
                parser.dropOpen();
                parser.rejects().clear();
                fr.cancelled = true;
                fr.error = "cancelled; nothing from this file was kept";
                report.cancelled = true;
                report.files.push_back(std::move(fr));
                continue;
            }
            if (!reader.error().empty())
                throw std::runtime_error(reader.error() + " (after line " + std::to_string(reader.lineNumber()) + ")");
            if (f.lines == 0) {
                m_store.rollbackFile();
                fr.ok = true;
                fr.messages = 0;
                fr.notices.push_back("empty file: nothing to import");
                report.files.push_back(std::move(fr));
                doneBytes += f.size;
                continue;
            }
            if (notThisFormat || (f.accepted == 0 && f.rejected > 0)) {
                const ParseIssue& first = fr.issues.front();
                throw std::runtime_error(std::string("not a log in the ") + formatName(item.format) + " format: line "
                                         + std::to_string(first.line) + ": " + first.reason);
            }
            if (item.format == LogFormat::ZeekFiles)
                fr.notices.push_back(std::to_string(zeekFiles->size() - zeekFilesBefore)
                                     + " file ids for the attachments of Zeek smtp.log records imported with it");
            m_store.writeRejects(parser.rejects());
            parser.rejects().clear();
            m_store.writeIssues(fr.issues);
            m_store.commitFile(f);
            fr.ok = true;
        } catch (const std::exception& e) {
            queue.abort();
            if (worker.joinable()) worker.join();
            m_store.rollbackFile();
            parser.dropOpen();
            parser.completed().clear();
            parser.rejects().clear();
            fr.ok = false;
            fr.error = e.what();
        }
        doneBytes += fr.figures.size;
        if (m_progress) m_progress(doneBytes, totalBytes, item.path);
        report.files.push_back(std::move(fr));
    }
    return report;
}

ImportReport ImportJob::importOrgCharts(const QStringList& paths) {
    ImportReport report;
    std::int64_t total = 0, done = 0;
    for (const QString& p : paths) total += QFileInfo(p).size();
    for (const QString& path : paths) {
        FileReport fr;
        fr.figures.path = path.toStdString();
        fr.figures.size = QFileInfo(path).size();
        if (cancelled()) {
            fr.cancelled = true;
            report.cancelled = true;
            report.files.push_back(std::move(fr));
            continue;
        }
        OrgChartResult r = readOrgChart(path, m_options.orgColumns);
        fr.figures.lines = r.lines;
        fr.figures.accepted = static_cast<std::int64_t>(r.users.size());
        fr.figures.rejected = static_cast<std::int64_t>(r.issues.size());
        fr.issues = r.issues;
        if (fr.issues.size() > m_options.maxIssuesPerFile) fr.issues.resize(m_options.maxIssuesPerFile);
        for (const auto& d : r.danglingManagers) fr.notices.push_back("manager does not resolve: " + d);
        if (!r.failed && r.users.empty()) {
            // Nothing accepted is a failed import, not an empty success.
            r.failed = true;
            r.failure = QFileInfo(path).fileName().toStdString() + ": no person accepted"
                        + (r.issues.empty() ? std::string(" (no rows after the header)")
                                            : " (" + std::to_string(r.issues.size()) + " row(s) rejected; see the reasons above)");
        }
        if (r.failed) {
            fr.error = r.failure;
            report.files.push_back(std::move(fr));
            continue;
        }
        fr.figures.kind = "org";
        try {
            m_store.beginFile(fr.figures);
            m_store.writeOrgUsers(r.users);
            m_store.writeIssues(fr.issues);
            m_store.commitFile(fr.figures);
            fr.ok = true;
            fr.messages = static_cast<std::int64_t>(r.users.size());
        } catch (const std::exception& e) {
            m_store.rollbackFile();
            fr.error = e.what();
        }
        done += fr.figures.size;
        if (m_progress) m_progress(done, total, path);
        report.files.push_back(std::move(fr));
    }
    return report;
}

} // namespace mt
