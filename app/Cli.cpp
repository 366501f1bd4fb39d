#include "Cli.h"

#include "model/CaseReader.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/confirm/Enrolment.h"
#include "model/detection/CaseDetection.h"
#include "model/live/LiveIngest.h"
#include "model/recall/Keyring.h"
#include "model/recall/RecallPlan.h"
#include "model/recall/RecallRun.h"
#include "model/recall/Verdict.h"
#include "model/simulator/Simulator.h"
#include "importers/PostfixLog.h"

#include <algorithm>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSettings>

#include <atomic>
#include <csignal>

namespace mt::cli {

namespace {

constexpr int kOk = 0, kInputFailed = 1, kUsage = 2, kNothingDone = 3;

const char* const kUsageText =
    "Usage: mailtriage-cli <command> [options]\n"
    "\n"
    "Commands:\n"
    "  import    --case FILE.mtcase [--org ORGFILE]... [--org-map FIELD=HEADER]... [--org-domain DOMAIN]\n"
    "            [--year YYYY|FILE=YYYY]... [--tz ZONE]\n"
    "            [--format postfix|sendmail|exim|zeek|zeek-files|exchange|m365|csv|jsonl|auto] [--server NAME] [--json] LOG...\n"
    "            Create the case if missing and import traffic logs (plain or .gz) and org charts (CSV, LDIF).\n"
    "            --org-map: which CSV column holds email, unit, name, manager, workstation, server or id (the\n"
    "            headers of one shared alias table are found without it). A manager column may hold the id\n"
    "            (the id column) of another row, e.g. MANAGER_ID or parentId.\n"
    "            --org-domain: mail domain for org chart cells holding user names (SKING -> sking@DOMAIN).\n"
    "            --format: the logs' format (default auto: decided per file from its content).\n"
    "            --server: server name for logs that do not name theirs (Exim mainlog, Zeek sensor).\n"
    "            --year: year of classic syslog stamps (\"Dec 24 09:00:01\"), YYYY for every log or FILE=YYYY for one\n"
    "            (repeatable). Default: inferred from each file's modification date; a stamp is never placed after\n"
    "            that date (later days go to the year before) and the summary says so.\n"
    "            --tz: zone of stamps without one, e.g. Europe/Berlin (default: UTC).\n"
    "  import    --case FILE --follow [LOG...] [--syslog-udp PORT] [--syslog-tcp PORT] [--syslog-tls PORT\n"
    "            --tls-cert PEM --tls-key PEM] [--bind ADDR] [--allow HOST|ADDR|CIDR]... [--duration SEC]\n"
    "            [--servers servers.json|demo] [--year YYYY] [--tz ZONE] [--flush-ms MS] [--no-detect] [--quiet]\n"
    "            Live: follow growing logs (across rotation) and/or receive syslog (RFC 5424/3164 over UDP, TCP,\n"
    "            TLS), append to the case each half second, detect after each batch. One line per batch; a new\n"
    "            campaign prints ALERT and a recall plan awaiting approval (never approved here). Without --allow\n"
    "            only loopback may send. Stops cleanly on SIGINT/SIGTERM or after --duration seconds.\n"
    "  messages  --case FILE [--format tsv|jsonl] [--flagged [--campaign ID]]\n"
    "            One line per logical message with its recipients, destinations and statuses.\n"
    "            --flagged: only the messages detection flagged, with their rule ids and campaign; in jsonl also\n"
    "            each hit's detail (rule, detail, key, weight, count, threshold, window).\n"
    "  detect    --case FILE [--rules FILE] [--full] [--json]\n"
    "            Run detection (the case's rule set, or --rules FILE, which becomes the case's) and store the\n"
    "            hits and campaigns, replacing the previous results. Incremental when the case only gained\n"
    "            later messages since the last run with the same rules; --full judges everything again.\n"
    "  rules     --case FILE [--export FILE | --import FILE | --confirm-config CONFIG.ini]\n"
    "            Print, export or import the case's detection rule set (JSON). --confirm-config writes the confirm\n"
    "            rule's criteria into the [criteria] section of a mailtriage-confirm config.ini (other sections\n"
    "            kept), so the terminals ask on the criteria by which the case judges a missing token.\n"
    "  summary   --case FILE [--json]\n"
    "            Counts in the case and the import runs.\n"
    "  simulate  --out DIR [--users N] [--servers K] [--hours H] [--seed S]\n"
    "            [--worm iloveyou|melissa|polymorphic|disguised|link|none] [--open-prob P]\n"
    "            [--traffic calm|busy] [--stamp rfc3339|classic] [--json]\n"
    "            Write a simulated organisation's org chart, Postfix logs and truth.json (same seed, same bytes).\n"
    "  recall    --case FILE (--campaign ID | --message MID... | --proposed) --servers servers.json|demo\n"
    "            --approve-as NAME [--plan-only] [--json]\n"
    "            Plan a recall of the campaign's (or the messages') copies per destination server, approve it\n"
    "            as NAME and run it: unread copies are moved to quarantine (IMAP) or held (Postfix queue), read\n"
    "            ones are already-retrieved. --proposed runs the cascade round a virus verdict proposed.\n"
    "            Every folder of the mailbox is searched; the JSON's copies say where each copy was found.\n"
    "            Requests already decided are never sent twice; an interrupted run is resumed.\n"
    "  verdict   --case FILE --campaign ID (virus|clean) --approve-as NAME [--servers servers.json|demo] [--json]\n"
    "            virus: delete the suspended copies and propose the next cascade round for retrieved ones;\n"
    "            clean: release the suspended copies and add allow entries that detection respects.\n"
    "            --exclude-branch MID (repeatable): leave out that message and everything below it in the\n"
    "            propagation tree; --exclude-joined: leave out the messages that only joined through a link.\n"
    "            What is left out keeps its state (suspended copies stay suspended) for a verdict of its own.\n"
    "  keyring   --host HOST (--set | --delete)\n"
    "            Store (the password is read from standard input) or remove the IMAP password of a server\n"
    "            directory entry with \"password_keyring\": true in the desktop keyring (QtKeychain).\n"
    "  audit     --case FILE [--csv OUT]\n"
    "            Print the audit trail of recall actions (or write it as CSV).\n"
    "  enrol     --case FILE [--json] [ENROLMENT.csv|.json]...\n"
    "            Enrol users for the send-confirmation rule (a bad row refuses the whole file); without a file, list them.\n"
    "  report    --case FILE --output report.pdf [--campaign ID] [--page-size A4|Letter] [--analyst NAME] [--json]\n"
    "            Write the incident report as a PDF.\n"
    "  export    --case FILE --table messages|campaigns|recall|audit [--format csv|json] [--output FILE]\n"
    "            Write a table of the case as CSV or JSON.\n"
    "\n"
    "Exit status: 0 success, 1 an input could not be imported (or the server directory was refused), 2 bad usage,\n"
    "3 a recall or verdict in which no request reached its server (unreachable, login refused, TLS refused).\n";

// std::int64_t is long here, and QJsonValue has no constructor for it.
QJsonValue jint(std::int64_t v) { return QJsonValue(static_cast<qint64>(v)); }

QString isoUtc(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

int usage(QTextStream& err, const QString& problem) {
    if (!problem.isEmpty()) err << "mailtriage-cli: " << problem << "\n\n";
    err << kUsageText;
    err.flush();
    return kUsage;
}

// Parses the options of one command; positional arguments are returned in `positional`.
bool parse(QCommandLineParser& p, const QStringList& args, QTextStream& err, int& code) {
    p.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    if (!p.parse(QStringList{QStringLiteral("mailtriage-cli")} + args)) {
        code = usage(err, p.errorText());
        return false;
    }
    return true;
}

void printIssues(const ImportReport& report, QTextStream& err) {
    for (const FileReport& f : report.files) {
        const QString path = QString::fromStdString(f.figures.path);
        if (!f.ok && !f.error.empty())
            err << path << ": error: " << QString::fromStdString(f.error) << (f.cancelled ? "" : " (nothing from this file was imported)") << "\n";
        for (const ParseIssue& i : f.issues)
            err << path << ':' << i.line << ": " << QString::fromStdString(i.reason)
                << (i.excerpt.empty() ? QString() : QStringLiteral(": ") + QString::fromStdString(i.excerpt)) << "\n";
        if (f.figures.rejected > static_cast<std::int64_t>(f.issues.size()) && !f.issues.empty())
            err << path << ": " << (f.figures.rejected - static_cast<std::int64_t>(f.issues.size()))
                << " more unreadable lines not shown\n";
        int shown = 0;
        for (const std::string& n : f.notices) {
            if (++shown > 10) {
                err << path << ": " << (f.notices.size() - 10) << " more notices not shown\n";
                break;
            }
            err << path << ": note: " << QString::fromStdString(n) << "\n";
        }
    }
    err.flush();
}

int cmdImport(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption orgOpt(QStringLiteral("org"), QStringLiteral("Org chart (CSV or LDIF)."), QStringLiteral("ORGFILE"));
    QCommandLineOption mapOpt(QStringLiteral("org-map"), QStringLiteral("CSV column mapping FIELD=HEADER."), QStringLiteral("MAP"));
    QCommandLineOption mapAlias(QStringLiteral("map"), QStringLiteral("Same as --org-map."), QStringLiteral("MAP"));
    QCommandLineOption orgDomainOpt(QStringLiteral("org-domain"), QStringLiteral("Mail domain of user names in the org chart."),
                                    QStringLiteral("DOMAIN"));
    QCommandLineOption yearOpt(QStringLiteral("year"), QStringLiteral("Year of classic syslog stamps (YYYY or FILE=YYYY)."),
                               QStringLiteral("YYYY"));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON summary."));
    QCommandLineOption tzOpt(QStringLiteral("tz"), QStringLiteral("Zone of stamps without one."), QStringLiteral("ZONE"));
    QCommandLineOption formatOpt(QStringLiteral("format"), QStringLiteral("Log format (default: auto)."), QStringLiteral("FORMAT"));
    QCommandLineOption serverOpt(QStringLiteral("server"), QStringLiteral("Server name for logs that do not name one."),
                                 QStringLiteral("NAME"));
    p.addOptions({caseOpt, orgOpt, mapOpt, mapAlias, orgDomainOpt, yearOpt, jsonOpt, tzOpt, formatOpt, serverOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("import: --case FILE is required"));
    const QStringList logs = p.positionalArguments();
    const QStringList orgs = p.values(orgOpt);
    if (logs.isEmpty() && orgs.isEmpty()) return usage(err, QStringLiteral("import: give at least one LOG or --org file"));
    ImportOptions options;
    options.format = LogFormat::Auto;
    if (p.isSet(formatOpt) && (!parseFormatName(p.value(formatOpt).toStdString(), options.format)))
        return usage(err, QStringLiteral("import: --format wants postfix, exim, zeek, zeek-files, exchange, m365, csv, jsonl "
                                         "or auto, not '%1'").arg(p.value(formatOpt)));
    if (p.isSet(serverOpt)) options.serverName = p.value(serverOpt).trimmed().toLower().toStdString();
    // --year YYYY for every file, --year FILE=YYYY for one (repeatable; the per-file form wins).
    for (const QString& y : p.values(yearOpt)) {
        const qsizetype eq = y.lastIndexOf(QLatin1Char('='));
        const QString file = eq > 0 ? y.left(eq) : QString();
        bool ok = false;
        const int year = (eq > 0 ? y.mid(eq + 1) : y).trimmed().toInt(&ok);
        if (!ok || year < 1970 || year > 9999)
            return usage(err, QStringLiteral("import: --year wants YYYY or FILE=YYYY (a four-digit year), not '%1'").arg(y));
        if (file.isEmpty()) {
            options.year = year;
            continue;
        }
        if (!logs.contains(file) && !logs.contains(QFileInfo(file).absoluteFilePath())) {
            bool found = false;
            for (const QString& l : logs) found = found || QFileInfo(l).absoluteFilePath() == QFileInfo(file).absoluteFilePath();
            if (!found) return usage(err, QStringLiteral("import: --year %1: '%2' is not one of the logs to import").arg(y, file));
        }
        options.yearOfFile[file] = year;
        options.yearOfFile[QFileInfo(file).absoluteFilePath()] = year;
    }
    if (p.isSet(tzOpt)) {
        options.timeZone = p.value(tzOpt).toStdString();
        if (!SyslogFraming().setTimeZone(options.timeZone))
            return usage(err, QStringLiteral("import: unknown time zone '%1' (use an IANA id such as Europe/Berlin)").arg(p.value(tzOpt)));
    }
    for (const QString& m : p.values(mapOpt) + p.values(mapAlias)) {
        const qsizetype eq = m.indexOf(QLatin1Char('='));
        if (eq <= 0) return usage(err, QStringLiteral("import: --org-map wants FIELD=HEADER, not '%1'").arg(m));
        options.orgColumns[m.left(eq).trimmed().toLower().toStdString()] = m.mid(eq + 1).trimmed().toStdString();
    }
    if (p.isSet(orgDomainOpt)) {
        const std::string d = p.value(orgDomainOpt).trimmed().toLower().toStdString();
        if (!validOrgDomain(d))
            return usage(err, QStringLiteral("import: --org-domain wants a mail domain such as corp.example, not '%1'")
                                  .arg(p.value(orgDomainOpt)));
        options.orgColumns["domain"] = d;
    }

    CaseStore store;
    try {
        store.open(p.value(caseOpt), true);
    } catch (const std::exception& e) {
        err << "mailtriage-cli: " << e.what() << "\n";
        return kInputFailed;
    }
    ImportJob job(store, options);
    // Org charts first, so users seen in the logs land in their units straight away.
    ImportReport orgReport = job.importOrgCharts(orgs);
    ImportReport logReport = job.importLogs(logs);
    printIssues(orgReport, err);
    printIssues(logReport, err);

    const CaseCounts c = store.counts();
    if (p.isSet(jsonOpt)) {
        QJsonArray files;
        for (const ImportReport* r : {&orgReport, &logReport})
            for (const FileReport& f : r->files) {
                QJsonObject o{{"path", QString::fromStdString(f.figures.path)},
                              {"kind", QString::fromStdString(f.figures.kind)},
                              {"lines", jint(f.figures.lines)},
                              {"accepted", jint(f.figures.accepted)},
                              {"rejected", jint(f.figures.rejected)},
                              {"skipped", jint(f.figures.skipped)},
                              {"ok", f.ok}};
                if (!f.error.empty()) o.insert(QStringLiteral("error"), QString::fromStdString(f.error));
                QJsonArray notices;
                for (const std::string& n : f.notices) notices.append(QString::fromStdString(n));
                if (!notices.isEmpty()) o.insert(QStringLiteral("notices"), notices);
                files.append(o);
            }
        QJsonObject o{{"messages", jint(c.messages)},
                      {"deliveries", jint(c.deliveries)},
                      {"servers", jint(c.servers)},
                      {"users", jint(c.users)},
                      {"units", jint(c.units)},
                      {"rejected_lines", jint(orgReport.rejectedLines() + logReport.rejectedLines())},
                      {"rejected_attempts", jint(c.rejectedAttempts)},
                      {"copies", jint(c.copies)},
                      {"files", files}};
        out << QJsonDocument(o).toJson(QJsonDocument::Compact) << "\n";
    } else {
        for (const ImportReport* r : {&orgReport, &logReport})
            for (const FileReport& f : r->files)
                out << (f.ok ? "imported " : "FAILED   ") << QString::fromStdString(f.figures.path) << ": "
                    << f.figures.lines << " lines, " << f.figures.accepted << " accepted, " << f.figures.rejected
                    << " rejected, " << f.figures.skipped << " skipped, " << f.figures.durationMs << " ms\n";
        out << "case " << p.value(caseOpt) << ": " << c.messages << " messages, " << c.deliveries << " deliveries, "
            << c.copies << " copies on " << c.servers << " servers, " << c.rejectedAttempts << " rejected attempts, "
            << c.users << " users in " << c.units << " units\n";
    }
    out.flush();
    return orgReport.anyFailed() || logReport.anyFailed() ? kInputFailed : kOk;
}

std::atomic_int g_stopSignal{0};
extern "C" void onStopSignal(int sig) { g_stopSignal.store(sig); }

// import --follow: live monitoring until a signal or --duration.
int cmdFollow(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption followOpt(QStringLiteral("follow"), QStringLiteral("Live: follow files, listen for syslog."));
    QCommandLineOption udpOpt(QStringLiteral("syslog-udp"), QStringLiteral("UDP port."), QStringLiteral("PORT"));
    QCommandLineOption tcpOpt(QStringLiteral("syslog-tcp"), QStringLiteral("TCP port."), QStringLiteral("PORT"));
    QCommandLineOption tlsOpt(QStringLiteral("syslog-tls"), QStringLiteral("TLS port (RFC 5425)."), QStringLiteral("PORT"));
    QCommandLineOption certOpt(QStringLiteral("tls-cert"), QStringLiteral("TLS certificate (PEM)."), QStringLiteral("PEM"));
    QCommandLineOption keyOpt(QStringLiteral("tls-key"), QStringLiteral("TLS private key (PEM)."), QStringLiteral("PEM"));
    QCommandLineOption bindOpt(QStringLiteral("bind"), QStringLiteral("Address to listen on."), QStringLiteral("ADDR"));
    QCommandLineOption allowOpt(QStringLiteral("allow"), QStringLiteral("Sender allowed (host, address, CIDR)."), QStringLiteral("HOST"));
    QCommandLineOption durationOpt(QStringLiteral("duration"), QStringLiteral("Stop after SEC seconds."), QStringLiteral("SEC"));
    QCommandLineOption serversOpt(QStringLiteral("servers"), QStringLiteral("Recall server directory for the plans."), QStringLiteral("FILE"));
    QCommandLineOption yearOpt(QStringLiteral("year"), QStringLiteral("Year of classic syslog stamps."), QStringLiteral("YYYY"));
    QCommandLineOption tzOpt(QStringLiteral("tz"), QStringLiteral("Zone of stamps without one."), QStringLiteral("ZONE"));
    QCommandLineOption quietOpt(QStringLiteral("quiet"), QStringLiteral("No line per batch."));
    QCommandLineOption flushOpt(QStringLiteral("flush-ms"), QStringLiteral("Batch interval (ms, at most 1000)."), QStringLiteral("MS"));
    QCommandLineOption noDetectOpt(QStringLiteral("no-detect"), QStringLiteral("Only collect: no detection, no alerts."));
    p.addOptions({caseOpt, followOpt, udpOpt, tcpOpt, tlsOpt, certOpt, keyOpt, bindOpt, allowOpt, durationOpt, serversOpt,
                  yearOpt, tzOpt, quietOpt, flushOpt, noDetectOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("import --follow: --case FILE is required"));
    live::LiveConfig config;
    config.files = p.positionalArguments();
    auto port = [&](const QCommandLineOption& o, int& to) {
        if (!p.isSet(o)) return true;
        bool ok = false;
        const int v = p.value(o).toInt(&ok);
        if (!ok || v < 0 || v > 65535) return false;
        to = v;
        return true;
    };
    if (!port(udpOpt, config.syslog.udpPort) || !port(tcpOpt, config.syslog.tcpPort) || !port(tlsOpt, config.syslog.tlsPort))
        return usage(err, QStringLiteral("import --follow: a port is a number from 0 to 65535"));
    if (config.syslog.tlsPort >= 0) {
        if (!p.isSet(certOpt) || !p.isSet(keyOpt)) return usage(err, QStringLiteral("import --follow: --syslog-tls needs --tls-cert and --tls-key"));
        config.syslog.certificateFile = p.value(certOpt);
        config.syslog.keyFile = p.value(keyOpt);
    }
    if (p.isSet(bindOpt) && !config.syslog.bind.setAddress(p.value(bindOpt)))
        return usage(err, QStringLiteral("import --follow: --bind wants an IP address, not '%1'").arg(p.value(bindOpt)));
    config.syslog.allow = p.values(allowOpt);
    if (config.files.isEmpty() && config.syslog.udpPort < 0 && config.syslog.tcpPort < 0 && config.syslog.tlsPort < 0)
        return usage(err, QStringLiteral("import --follow: give LOG files to follow or a --syslog-udp/--syslog-tcp/--syslog-tls port"));
    double duration = 0;
    if (p.isSet(durationOpt)) {
        bool ok = false;
        duration = p.value(durationOpt).toDouble(&ok);
        if (!ok || duration <= 0) return usage(err, QStringLiteral("import --follow: --duration wants seconds"));
    }
    if (p.isSet(yearOpt)) {
        bool ok = false;
        config.year = p.value(yearOpt).toInt(&ok);
        if (!ok || config.year < 1970 || config.year > 9999) return usage(err, QStringLiteral("import --follow: --year wants a four-digit year"));
    }
    if (p.isSet(tzOpt)) {
        config.timeZone = p.value(tzOpt).toStdString();
        if (!SyslogFraming().setTimeZone(config.timeZone))
            return usage(err, QStringLiteral("import --follow: unknown time zone '%1'").arg(p.value(tzOpt)));
    }
    if (p.isSet(flushOpt)) {
        bool ok = false;
        config.flushIntervalMs = p.value(flushOpt).toInt(&ok);
        if (!ok || config.flushIntervalMs < 10 || config.flushIntervalMs > 1000)
            return usage(err, QStringLiteral("import --follow: --flush-ms wants 10 to 1000"));
    }
    if (p.isSet(serversOpt) && p.value(serversOpt) != QLatin1String("demo")) config.serversFile = p.value(serversOpt);
    if (!QCoreApplication::instance()) {
        err << "mailtriage-cli: import --follow needs the application's event loop\n";
        return kInputFailed;
    }
    const bool quiet = p.isSet(quietOpt);
    config.detect = !p.isSet(noDetectOpt);

    live::LiveIngest ingest(p.value(caseOpt), config);
    QObject::connect(&ingest, &live::LiveIngest::notice, [&err](const QString& what) {
        err << "mailtriage-cli: " << what << "\n";
        err.flush();
    });
    live::LiveStats last;
    QObject::connect(&ingest, &live::LiveIngest::stats, [&out, &last, quiet](const live::LiveStats& s) {
        last = s;
        if (quiet) return;
        out << "batch " << s.batch << ": " << s.batchLines << " lines (" << s.accepted << " accepted, " << s.rejected
            << " rejected, " << s.skipped << " skipped), " << s.copiesWritten << " copies written, " << s.messages
            << " messages in case, " << s.batchMs << " ms, lag " << s.lagMs << " ms, queued " << s.queued
            << ", detection " << s.detectionRuns << " runs (last " << s.lastDetectMs << " ms)\n";
        out.flush();
    });
    QObject::connect(&ingest, &live::LiveIngest::newCampaign,
                     [&out](qint64 id, const QString& label, qint64 detectedAt, qint64 alertId) {
                         out << "ALERT new campaign " << id << " \"" << label << "\" detected_at " << isoUtc(detectedAt)
                             << " alert " << alertId << " wall_ms " << QDateTime::currentMSecsSinceEpoch() << "\n";
                         out.flush();
                     });
    QObject::connect(&ingest, &live::LiveIngest::planProposed, [&out](qint64 alertId, qint64 campaign, qint64 proposed) {
        out << "PLAN alert " << alertId << " campaign " << campaign << ": " << proposed
            << " recall requests proposed, awaiting approval (mailtriage-cli recall --proposed)\n";
        out.flush();
    });
    if (!ingest.start()) {
        err << "mailtriage-cli: import --follow: " << ingest.error() << "\n";
        return kInputFailed;
    }
    out << "following";
    for (const QString& f : config.files) out << " " << f;
    if (ingest.udpPort() >= 0) out << " udp/" << ingest.udpPort();
    if (ingest.tcpPort() >= 0) out << " tcp/" << ingest.tcpPort();
    if (ingest.tlsPort() >= 0) out << " tls/" << ingest.tlsPort();
    out << " into " << p.value(caseOpt) << " (session " << ingest.sessionId() << ")\n";
    out.flush();

    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    QTimer signalPoll;
    QObject::connect(&signalPoll, &QTimer::timeout, [] {
        if (g_stopSignal.load()) QCoreApplication::quit();
    });
    signalPoll.start(100);
    if (duration > 0) QTimer::singleShot(static_cast<int>(duration * 1000), [] { QCoreApplication::quit(); });
    QCoreApplication::exec();
    ingest.stop();
    QCoreApplication::processEvents(); // the last stats and alerts queued by stop()
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    CaseStore store;
    try {
        store.open(p.value(caseOpt), false);
        const CaseCounts c = store.counts();
        out << "stopped" << (g_stopSignal.load() ? " by signal" : "") << ": case " << p.value(caseOpt) << ": " << c.messages
            << " messages, " << c.deliveries << " deliveries, " << c.copies << " copies on " << c.servers << " servers\n";
        const live::ListenerCounters& l = last.listener;
        out << "session " << ingest.sessionId() << ": " << last.lines << " lines committed in " << last.batch << " batches, "
            << last.followedLines << " read from files, " << l.received << " syslog messages, " << l.malformed << " malformed, "
            << l.oversized << " oversized, " << l.refused << " refused, " << l.truncated << " cut by a disconnect, "
            << last.dropped << " dropped, " << last.detectionRuns << " detection runs\n";
    } catch (const std::exception& e) {
        err << "mailtriage-cli: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

std::unique_ptr<CaseReader> openReader(const QString& path, QTextStream& err) {
    auto r = std::make_unique<CaseReader>(path);
    if (!r->isOpen()) {
        err << "mailtriage-cli: " << r->error() << "\n";
        return nullptr;
    }
    if (!r->readOnlyNote().isEmpty()) {
        err << "mailtriage-cli: note: " << r->readOnlyNote() << "\n";
        err.flush();
    }
    return r;
}

QString tsvField(QString s) {
    s.replace(QLatin1Char('\t'), QLatin1Char(' '));
    s.replace(QLatin1Char('\n'), QLatin1Char(' '));
    s.replace(QLatin1Char('\r'), QLatin1Char(' '));
    return s;
}

int cmdMessages(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption fmtOpt(QStringLiteral("format"), QStringLiteral("tsv or jsonl."), QStringLiteral("FORMAT"), QStringLiteral("tsv"));
    QCommandLineOption flaggedOpt(QStringLiteral("flagged"), QStringLiteral("Only flagged messages."));
    QCommandLineOption campaignOpt(QStringLiteral("campaign"), QStringLiteral("Only this campaign's."), QStringLiteral("ID"));
    p.addOptions({caseOpt, fmtOpt, flaggedOpt, campaignOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("messages: --case FILE is required"));
    const QString fmt = p.value(fmtOpt);
    if (fmt != QLatin1String("tsv") && fmt != QLatin1String("jsonl"))
        return usage(err, QStringLiteral("messages: --format is tsv or jsonl, not '%1'").arg(fmt));
    auto reader = openReader(p.value(caseOpt), err);
    if (!reader) return kInputFailed;
    const bool json = fmt == QLatin1String("jsonl");
    const bool flaggedOnly = p.isSet(flaggedOpt) || p.isSet(campaignOpt);
    qint64 campaign = 0;
    if (p.isSet(campaignOpt)) {
        bool ok = false;
        campaign = p.value(campaignOpt).toLongLong(&ok);
        if (!ok || campaign <= 0) return usage(err, QStringLiteral("messages: --campaign wants a campaign id"));
    }
    if (!json)
        out << "message_id\ttime\tsender\tclient\tsize\tsubject\tattachments\trecipients"
            << (flaggedOnly ? "\trules\tcampaign\n" : "\n");
    auto print = [&](const MessageView& m, const FlagView* f) {
        if (json) {
            QJsonArray atts, rcpts;
            for (const QString& a : m.attachments) atts.append(a);
            for (const RecipientView& r : m.recipients)
                rcpts.append(QJsonObject{{"address", r.address}, {"destination", r.destination}, {"status", r.status}});
            QJsonObject o{{"message_id", m.messageId},
                          {"time", isoUtc(m.time)},
                          {"sender", m.sender},
                          {"client", m.client()},
                          {"sasl_user", m.saslUser},
                          {"server", m.originServer},
                          {"size", m.size},
                          {"subject", m.subject},
                          {"attachments", atts},
                          {"recipients", rcpts}};
            if (f) {
                o.insert(QStringLiteral("rules"), QJsonArray::fromStringList(f->rules));
                o.insert(QStringLiteral("campaign"), f->campaignId);
                o.insert(QStringLiteral("generation"), f->generation);
                o.insert(QStringLiteral("flagged_at"), isoUtc(f->flaggedAt));
                // Each hit with its detail: why the rule fired (the reason, the count against the threshold).
                QJsonArray hits;
                for (const HitView& h : reader->hits(f->messageId)) {
                    QJsonObject ho{{"rule", h.rule}, {"detail", h.detail}, {"key", h.key}, {"weight", h.weight},
                                   {"count", h.count}, {"threshold", h.threshold}};
                    if (h.windowStart) ho.insert(QStringLiteral("window_start"), isoUtc(h.windowStart));
                    if (h.windowEnd) ho.insert(QStringLiteral("window_end"), isoUtc(h.windowEnd));
                    hits.append(ho);
                }
                o.insert(QStringLiteral("hits"), hits);
            }
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << '\n';
        } else {
            QStringList rc;
            for (const RecipientView& r : m.recipients)
                rc << QStringLiteral("%1>%2:%3").arg(r.address, r.destination.isEmpty() ? QStringLiteral("-") : r.destination, r.status);
            out << tsvField(m.messageId) << '\t' << isoUtc(m.time) << '\t' << tsvField(m.sender) << '\t'
                << tsvField(m.client()) << '\t' << m.size << '\t' << tsvField(m.subject) << '\t'
                << tsvField(m.attachments.join(QLatin1Char(','))) << '\t' << tsvField(rc.join(QLatin1Char(',')));
            if (f) out << '\t' << f->rules.join(QLatin1Char(',')) << '\t' << f->campaignId;
            out << '\n';
        }
    };
    if (!flaggedOnly) {
        reader->forEachMessage([&](const MessageView& m) { print(m, nullptr); });
    } else {
        const QVector<FlagView> flags = reader->flaggedMessages(campaign);
        constexpr int kPage = 500;
        for (int from = 0; from < flags.size(); from += kPage) {
            QVector<qint64> ids;
            QHash<qint64, const FlagView*> flagOf;
            for (int i = from; i < std::min<int>(flags.size(), from + kPage); ++i) {
                ids << flags[i].messageId;
                flagOf.insert(flags[i].messageId, &flags[i]);
            }
            for (const MessageView& m : reader->messages(ids)) print(m, flagOf.value(m.id));
        }
    }
    out.flush();
    return kOk;
}

int cmdDetect(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption rulesOpt(QStringLiteral("rules"), QStringLiteral("Rule set (JSON)."), QStringLiteral("FILE"));
    QCommandLineOption fullOpt(QStringLiteral("full"), QStringLiteral("Judge every message again."));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    p.addOptions({caseOpt, rulesOpt, fullOpt, jsonOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("detect: --case FILE is required"));
    det::RuleSet rules;
    if (p.isSet(rulesOpt)) {
        QFile f(p.value(rulesOpt));
        if (!f.open(QIODevice::ReadOnly)) {
            err << "mailtriage-cli: " << p.value(rulesOpt) << ": " << f.errorString() << "\n";
            return kInputFailed;
        }
        QString error;
        if (!det::RuleSet::fromJson(f.readAll(), rules, &error)) {
            err << "mailtriage-cli: " << p.value(rulesOpt) << ": " << error << "\n";
            return kInputFailed;
        }
    }
    det::CaseDetectionReport rep;
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        if (p.isSet(rulesOpt)) det::CaseDetection::storeRuleSet(store, rules);
        rep = det::CaseDetection::run(store, !p.isSet(fullOpt));
    } catch (const std::exception& e) {
        err << "mailtriage-cli: " << e.what() << "\n";
        return kInputFailed;
    }
    auto reader = openReader(p.value(caseOpt), err);
    if (!reader) return kInputFailed;
    const QVector<CampaignView> campaigns = reader->campaigns();
    if (p.isSet(jsonOpt)) {
        QJsonArray arr;
        for (const CampaignView& c : campaigns)
            arr.append(QJsonObject{{"id", c.id},
                                   {"label", c.label},
                                   {"messages", c.messages},
                                   {"strong_evidence", c.strongMessages},
                                   {"joined_by_link", c.messages - c.strongMessages},
                                   {"confidence", qRound(1000 * c.confidence()) / 1000.0},
                                   {"senders", c.senders},
                                   {"recipients", c.recipients},
                                   {"patient_zero", c.patientZero},
                                   {"first_seen", isoUtc(c.firstSeen)},
                                   {"detected_at", c.detectedAt ? QJsonValue(isoUtc(c.detectedAt)) : QJsonValue()},
                                   {"generations", c.generations},
                                   {"units", QJsonArray::fromStringList(c.units)}});
        out << QJsonDocument(QJsonObject{{"messages", jint(rep.messages)},
                                         {"flagged", jint(rep.flagged)},
                                         {"processed", jint(rep.processed)},
                                         {"incremental", rep.incremental},
                                         {"campaigns", arr}})
                   .toJson(QJsonDocument::Compact)
            << "\n";
    } else {
        out << "detect " << p.value(caseOpt) << ": " << rep.messages << " messages, " << rep.flagged << " flagged in "
            << campaigns.size() << " campaigns"
            << (rep.upToDate ? QStringLiteral(" (up to date)")
                             : rep.incremental ? QStringLiteral(" (incremental: %1 judged)").arg(rep.processed) : QString())
            << "; load " << rep.loadMs << " ms, detect " << rep.detectMs << " ms, write " << rep.writeMs << " ms\n";
        for (const CampaignView& c : campaigns)
            out << "  campaign " << c.id << ": " << c.label << "\n"
                << "    " << c.messages << " messages from " << c.senders << " senders to " << c.recipients
                << " recipients, " << c.generations << " generations, " << c.units.size() << " units\n"
                << "    " << c.strongMessages << " on their own evidence, " << c.messages - c.strongMessages
                << " joined by a link (confidence " << qRound(100 * c.confidence()) << " %)\n"
                << "    patient zero " << c.patientZero << ", first seen " << isoUtc(c.firstSeen) << ", detected at "
                << (c.detectedAt ? isoUtc(c.detectedAt) : QStringLiteral("-")) << "\n";
    }
    out.flush();
    return kOk;
}

int cmdRules(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption exportOpt(QStringLiteral("export"), QStringLiteral("Write the rule set here."), QStringLiteral("FILE"));
    QCommandLineOption importOpt(QStringLiteral("import"), QStringLiteral("Make this rule set the case's."), QStringLiteral("FILE"));
    QCommandLineOption confirmOpt(QStringLiteral("confirm-config"),
                                  QStringLiteral("Write the confirm rule's criteria into this mailtriage-confirm config.ini."),
                                  QStringLiteral("FILE"));
    p.addOptions({caseOpt, exportOpt, importOpt, confirmOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("rules: --case FILE is required"));
    if (int(p.isSet(exportOpt)) + int(p.isSet(importOpt)) + int(p.isSet(confirmOpt)) > 1)
        return usage(err, QStringLiteral("rules: one of --export, --import or --confirm-config"));
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        if (p.isSet(confirmOpt)) {
            // The terminals ask on these criteria; the case's confirm rule decides with the same
            // ones whether a token was due. This writes the first from the second.
            const det::RuleSet rules = det::CaseDetection::ruleSet(store);
            const det::ConfirmParams& c = rules.confirm;
            QStringList risky;
            if (c.riskyAttachments) {
                for (const auto* list : {&rules.type.executable, &rules.type.script})
                    for (const std::string& e : *list) {
                        QString x = QString::fromStdString(e).trimmed().toLower();
                        if (x.startsWith(QLatin1Char('.'))) x.remove(0, 1);
                        if (!x.isEmpty()) risky << x;
                    }
            }
            const QString path = p.value(confirmOpt);
            {
                QSettings ini(path, QSettings::IniFormat);
                ini.beginGroup(QStringLiteral("criteria"));
                ini.setValue(QStringLiteral("always"), c.requireAlways);
                ini.setValue(QStringLiteral("max_recipients"), c.maxRecipients);
                ini.setValue(QStringLiteral("max_messages"), c.rateMessages);
                ini.setValue(QStringLiteral("window_minutes"), (c.rateWindowSec + 59) / 60);
                ini.setValue(QStringLiteral("risky_extensions"), risky.join(QLatin1Char(',')));
                ini.endGroup();
                ini.sync();
                if (ini.status() != QSettings::NoError) {
                    err << "mailtriage-cli: cannot write " << path << "\n";
                    return kInputFailed;
                }
            }
            out << "rules " << p.value(caseOpt) << ": wrote [criteria] of " << path << " from the case's confirm rule (always="
                << (c.requireAlways ? "true" : "false") << ", max_recipients=" << c.maxRecipients << ", max_messages="
                << c.rateMessages << ", window_minutes=" << (c.rateWindowSec + 59) / 60 << ", " << risky.size()
                << " risky extensions); other sections kept\n";
            if (c.rateWindowSec % 60)
                err << "mailtriage-cli: note: the rule's window of " << c.rateWindowSec
                    << " s is not whole minutes; the terminals use " << (c.rateWindowSec + 59) / 60 << " min\n";
        } else if (p.isSet(importOpt)) {
            QFile f(p.value(importOpt));
            if (!f.open(QIODevice::ReadOnly)) {
                err << "mailtriage-cli: " << p.value(importOpt) << ": " << f.errorString() << "\n";
                return kInputFailed;
            }
            det::RuleSet rules;
            QString error;
            if (!det::RuleSet::fromJson(f.readAll(), rules, &error)) {
                err << "mailtriage-cli: " << p.value(importOpt) << ": " << error << "\n";
                return kInputFailed;
            }
            det::CaseDetection::storeRuleSet(store, rules);
            out << "rules " << p.value(caseOpt) << ": imported " << p.value(importOpt) << " (run detect to apply them)\n";
        } else {
            const QByteArray json = det::CaseDetection::ruleSet(store).toJsonBytes();
            if (p.isSet(exportOpt)) {
                QFile f(p.value(exportOpt));
                if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(json) != json.size()) {
                    err << "mailtriage-cli: " << p.value(exportOpt) << ": " << f.errorString() << "\n";
                    return kInputFailed;
                }
            } else {
                out << json;
            }
        }
    } catch (const std::exception& e) {
        err << "mailtriage-cli: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

int cmdSummary(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    p.addOptions({caseOpt, jsonOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("summary: --case FILE is required"));
    auto reader = openReader(p.value(caseOpt), err);
    if (!reader) return kInputFailed;
    const CaseCounts c = reader->counts();
    const auto runs = reader->importRuns();
    if (p.isSet(jsonOpt)) {
        QJsonArray imports;
        for (const ImportRunView& r : runs)
            imports.append(QJsonObject{{"path", r.path}, {"kind", r.kind}, {"size", r.size}, {"lines", r.lines},
                                       {"accepted", r.accepted}, {"rejected", r.rejected}, {"skipped", r.skipped},
                                       {"started_at", isoUtc(r.startedAt)}, {"duration_ms", r.durationMs}});
        out << QJsonDocument(QJsonObject{{"messages", jint(c.messages)}, {"deliveries", jint(c.deliveries)}, {"copies", jint(c.copies)},
                                         {"servers", jint(c.servers)}, {"users", jint(c.users)}, {"units", jint(c.units)},
                                         {"rejected_attempts", jint(c.rejectedAttempts)}, {"imports", imports}})
                   .toJson(QJsonDocument::Compact)
            << "\n";
    } else {
        out << "messages           " << c.messages << "\n"
            << "deliveries         " << c.deliveries << "\n"
            << "copies             " << c.copies << "\n"
            << "servers            " << c.servers << "\n"
            << "users              " << c.users << "\n"
            << "units              " << c.units << "\n"
            << "rejected attempts  " << c.rejectedAttempts << "\n"
            << "imports            " << runs.size() << "\n";
        for (const ImportRunView& r : runs)
            out << "  " << isoUtc(r.startedAt) << "  " << r.kind << "  " << r.path << "  " << r.lines << " lines, "
                << r.accepted << " accepted, " << r.rejected << " rejected, " << r.durationMs << " ms\n";
    }
    out.flush();
    return kOk;
}

int cmdSimulate(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    const QCommandLineOption outOpt(QStringLiteral("out"), QStringLiteral("Output folder."), QStringLiteral("DIR"));
    const QCommandLineOption usersOpt(QStringLiteral("users"), QStringLiteral("Users."), QStringLiteral("N"), QStringLiteral("300"));
    const QCommandLineOption serversOpt(QStringLiteral("servers"), QStringLiteral("Mail servers."), QStringLiteral("K"), QStringLiteral("4"));
    const QCommandLineOption hoursOpt(QStringLiteral("hours"), QStringLiteral("Hours of log."), QStringLiteral("H"), QStringLiteral("8"));
    const QCommandLineOption seedOpt(QStringLiteral("seed"), QStringLiteral("Seed."), QStringLiteral("S"), QStringLiteral("1"));
    const QCommandLineOption wormOpt(QStringLiteral("worm"), QStringLiteral("Worm."), QStringLiteral("KIND"), QStringLiteral("iloveyou"));
    const QCommandLineOption openOpt(QStringLiteral("open-prob"), QStringLiteral("Open probability."), QStringLiteral("P"), QStringLiteral("0.2"));
    const QCommandLineOption stampOpt(QStringLiteral("stamp"), QStringLiteral("Stamps."), QStringLiteral("STYLE"), QStringLiteral("rfc3339"));
    const QCommandLineOption trafficOpt(QStringLiteral("traffic"), QStringLiteral("Ordinary traffic."), QStringLiteral("KIND"), QStringLiteral("calm"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    p.addOptions({outOpt, usersOpt, serversOpt, hoursOpt, seedOpt, wormOpt, openOpt, trafficOpt, stampOpt, jsonOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(outOpt)) return usage(err, QStringLiteral("simulate: --out DIR is required"));
    sim::SimulationOptions o;
    o.outDir = p.value(outOpt);
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false, ok5 = false;
    o.users = p.value(usersOpt).toInt(&ok1);
    o.servers = p.value(serversOpt).toInt(&ok2);
    o.hours = p.value(hoursOpt).toDouble(&ok3);
    o.seed = p.value(seedOpt).toULongLong(&ok4);
    o.openProbability = p.value(openOpt).toDouble(&ok5);
    if (!ok1 || o.users < 10 || o.users > 1000000) return usage(err, QStringLiteral("simulate: --users wants 10 to 1000000"));
    if (!ok2 || o.servers < 1 || o.servers > 64) return usage(err, QStringLiteral("simulate: --servers wants 1 to 64"));
    if (!ok3 || o.hours <= 0 || o.hours > 24 * 31) return usage(err, QStringLiteral("simulate: --hours wants a positive number of hours"));
    if (!ok4) return usage(err, QStringLiteral("simulate: --seed wants an unsigned integer"));
    if (!ok5 || o.openProbability < 0 || o.openProbability > 1)
        return usage(err, QStringLiteral("simulate: --open-prob wants a probability between 0 and 1"));
    if (!sim::wormFromName(p.value(wormOpt), o.worm))
        return usage(err, QStringLiteral("simulate: --worm is iloveyou, melissa, polymorphic, disguised, link or none, not '%1'")
                              .arg(p.value(wormOpt)));
    if (!sim::trafficFromName(p.value(trafficOpt), o.traffic))
        return usage(err, QStringLiteral("simulate: --traffic is calm or busy, not '%1'").arg(p.value(trafficOpt)));
    const QString stamp = p.value(stampOpt);
    if (stamp != QLatin1String("rfc3339") && stamp != QLatin1String("classic"))
        return usage(err, QStringLiteral("simulate: --stamp is rfc3339 or classic"));
    o.classicStamps = stamp == QLatin1String("classic");
    const sim::SimulationResult r = sim::simulate(o);
    if (!r.ok) {
        err << "mailtriage-cli: simulate: " << r.error << "\n";
        return kInputFailed;
    }
    if (p.isSet(jsonOpt)) {
        QJsonArray logs;
        for (const QString& f : r.logFiles) logs.append(f);
        out << QJsonDocument(QJsonObject{{"out", o.outDir}, {"logs", logs}, {"org", r.orgChart}, {"truth", r.truthFile},
                                         {"messages", jint(r.messages)}, {"worm_messages", jint(r.wormMessages)},
                                         {"infected", r.infectedUsers}})
                   .toJson(QJsonDocument::Compact)
            << "\n";
    } else {
        out << "simulated " << o.users << " users on " << o.servers << " servers for " << o.hours << " h (seed " << o.seed
            << ", worm " << sim::wormName(o.worm) << "): " << r.messages << " messages, " << r.wormMessages
            << " worm messages, " << r.infectedUsers << " infected users\n"
            << "  org chart " << r.orgChart << "\n  truth     " << r.truthFile << "\n";
        for (const QString& f : r.logFiles) out << "  log       " << f << "\n";
    }
    out.flush();
    return kOk;
}

// ------------------------------------------------------------------ recall, verdict, audit

QJsonObject stateCountsJson(const std::map<std::string, std::int64_t>& m) {
    // Every state is present (0 when none), in JSON spelling (already_retrieved).
    QJsonObject o;
    for (const char* n : {"proposed", "approved", "requested", "suspended", "already-retrieved", "not-found", "unreachable",
                          "auth-failed", "refused", "not-recallable", "deleted", "released", "cascaded"}) {
        const auto it = m.find(n);
        o.insert(QString::fromLatin1(n).replace(QLatin1Char('-'), QLatin1Char('_')), jint(it == m.end() ? 0 : it->second));
    }
    return o;
}

QJsonObject countsJson(const recall::StateCounts& c) {
    QJsonObject servers;
    for (const auto& [server, m] : c.byServer) servers.insert(QString::fromStdString(server), stateCountsJson(m));
    return QJsonObject{{"requests", jint(c.requests)}, {"states", stateCountsJson(c.total)}, {"servers", servers}};
}

void printCounts(QTextStream& out, const recall::StateCounts& c) {
    for (const auto& [server, m] : c.byServer) {
        out << "  " << QString::fromStdString(server) << ":";
        for (const auto& [state, n] : m) out << " " << QString::fromStdString(state) << "=" << n;
        out << "\n";
    }
}

QJsonArray resultsJson(const std::vector<recall::RequestResult>& results) {
    QJsonArray arr;
    for (const recall::RequestResult& r : results)
        arr.append(QJsonObject{{"request", jint(r.requestId)},
                               {"server", QString::fromStdString(r.server)},
                               {"connector", QString::fromStdString(r.connector)},
                               {"message_id", QString::fromStdString(r.messageKey)},
                               {"recipient", QString::fromStdString(r.recipient)},
                               {"from", QString::fromLatin1(recall::stateName(r.from))},
                               {"to", QString::fromLatin1(recall::stateName(r.to))},
                               {"attempts", r.attempts},
                               {"folder", QString::fromStdString(r.folder)},
                               {"read_while_suspended", r.readWhileSuspended},
                               {"answer", QString::fromStdString(r.answer)}});
    return arr;
}

// Each copy of the selection: where it is, in the one vocabulary of states.
QJsonArray copiesJson(recall::RecallStore& rs, const std::vector<std::int64_t>& ids) {
    QJsonArray arr;
    if (ids.empty()) return arr;
    recall::RequestFilter f;
    f.ids = ids;
    for (const recall::Request& r : rs.requests(f))
        arr.append(QJsonObject{{"request", jint(r.id)},
                               {"message_id", QString::fromStdString(r.messageKey)},
                               {"recipient", QString::fromStdString(r.recipient)},
                               {"mailbox", QString::fromStdString(r.mailbox)},
                               {"server", QString::fromStdString(r.server)},
                               {"place", QString::fromLatin1(recall::placeName(r.place))},
                               {"folder", QString::fromStdString(r.folder)},
                               {"state", QString::fromLatin1(recall::stateName(r.state))},
                               {"read", QString::fromLatin1(recall::readStateName(r.read))},
                               {"cascaded", r.cascadedAt != 0},
                               {"status", QString::fromStdString(r.status())}});
    return arr;
}

// A run in which no request got an answer about its copy: say why and exit non-zero.
int nothingDone(const recall::RunReport& run, QTextStream& err, const char* cmd) {
    if (run.processed == 0 || run.reached > 0) return kOk;
    std::string why;
    for (const recall::RequestResult& r : run.results)
        if (!r.answer.empty()) {
            why = r.answer;
            break;
        }
    err << "mailtriage-cli: " << cmd << ": none of the " << run.processed << " requests reached its server"
        << (why.empty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromStdString(why))) << "\n";
    return kNothingDone;
}

// --servers FILE, or "demo" for the in-process simulation everywhere. False: message printed.
bool loadServers(const QString& value, recall::ServerDirectory& dir, QTextStream& err) {
    if (value == QLatin1String("demo")) {
        dir = recall::ServerDirectory::demoEverywhere();
        return true;
    }
    QString error;
    if (!dir.loadFile(value, &error)) {
        err << "mailtriage-cli: servers: " << error << "\n";
        return false;
    }
    // Passwords kept in the desktop keyring are read into memory only.
    if (!recall::loadKeyringSecrets(dir, &error)) {
        err << "mailtriage-cli: servers: " << value << ": " << error << "\n";
        return false;
    }
    // Settings that would fail every request are refused now, with the reason (plan-only too).
    if (!dir.checkSecrets(&error)) {
        err << "mailtriage-cli: servers: " << value << ": " << error << "\n";
        return false;
    }
    return true;
}

int cmdRecall(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption campaignOpt(QStringLiteral("campaign"), QStringLiteral("Campaign id."), QStringLiteral("ID"));
    QCommandLineOption messageOpt(QStringLiteral("message"), QStringLiteral("Message-ID."), QStringLiteral("MID"));
    QCommandLineOption proposedOpt(QStringLiteral("proposed"), QStringLiteral("The proposed (cascade) requests."));
    QCommandLineOption serversOpt(QStringLiteral("servers"), QStringLiteral("Server directory (JSON) or 'demo'."), QStringLiteral("FILE"));
    QCommandLineOption approveOpt(QStringLiteral("approve-as"), QStringLiteral("Approver's name."), QStringLiteral("NAME"));
    QCommandLineOption planOpt(QStringLiteral("plan-only"), QStringLiteral("Plan, do not approve or run."));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    p.addOptions({caseOpt, campaignOpt, messageOpt, proposedOpt, serversOpt, approveOpt, planOpt, jsonOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("recall: --case FILE is required"));
    const int selections = (p.isSet(campaignOpt) ? 1 : 0) + (p.isSet(messageOpt) ? 1 : 0) + (p.isSet(proposedOpt) ? 1 : 0);
    if (selections != 1) return usage(err, QStringLiteral("recall: give one of --campaign ID, --message MID... or --proposed"));
    if (!p.isSet(serversOpt)) return usage(err, QStringLiteral("recall: --servers servers.json (or 'demo') is required"));
    if (!p.positionalArguments().isEmpty() && !p.isSet(messageOpt))
        return usage(err, QStringLiteral("recall: unexpected argument '%1'").arg(p.positionalArguments().first()));
    const bool planOnly = p.isSet(planOpt);
    const QString analyst = p.value(approveOpt).trimmed();
    if (!planOnly && analyst.isEmpty()) return usage(err, QStringLiteral("recall: --approve-as NAME is required (who approves the recall)"));
    std::int64_t campaign = 0;
    if (p.isSet(campaignOpt)) {
        bool ok = false;
        campaign = p.value(campaignOpt).toLongLong(&ok);
        if (!ok || campaign <= 0) return usage(err, QStringLiteral("recall: --campaign wants a campaign id"));
    }
    recall::ServerDirectory dir;
    if (!loadServers(p.value(serversOpt), dir, err)) return kInputFailed;
    const std::string who = analyst.isEmpty() ? std::string("(plan only)") : analyst.toStdString();
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        SqliteDb& db = store.db();
        recall::RecallStore rs(db);
        std::vector<std::int64_t> messages, requestIds;
        std::string label;
        recall::Plan plan;
        if (p.isSet(proposedOpt)) {
            recall::RequestFilter f;
            f.states = {recall::State::Proposed};
            for (const recall::Request& r : rs.requests(f)) {
                requestIds.push_back(r.id);
                plan.proposedIds.push_back(r.id);
                recall::ServerPlan& sp = plan.servers[r.server];
                sp.server = r.server;
                sp.connector = r.connector;
                ++sp.copies;
                ++sp.recallable;
                ++plan.copies;
                ++plan.recallable;
                messages.push_back(r.caseMessageId);
            }
            std::sort(messages.begin(), messages.end());
            messages.erase(std::unique(messages.begin(), messages.end()), messages.end());
            plan.messages = static_cast<std::int64_t>(messages.size());
        } else {
            if (campaign) {
                messages = recall::campaignMessages(db, campaign, &label);
                if (messages.empty()) {
                    err << "mailtriage-cli: recall: no campaign " << campaign << " in " << p.value(caseOpt) << " (run detect)\n";
                    return kInputFailed;
                }
            } else {
                std::vector<std::string> mids, unknown;
                // --message A --message B, or --message A B C.
                for (const QString& m : p.values(messageOpt) + p.positionalArguments()) mids.push_back(m.trimmed().toStdString());
                messages = recall::messagesByMessageId(db, mids, &unknown);
                if (!unknown.empty()) {
                    for (const std::string& u : unknown) err << "mailtriage-cli: recall: no message <" << QString::fromStdString(u) << "> in the case\n";
                    return kInputFailed;
                }
            }
            plan = recall::buildPlan(db, dir, messages, who);
            requestIds = plan.requestIds;
        }
        std::int64_t approved = 0;
        recall::RunReport run;
        if (!planOnly) {
            approved = recall::approveRequests(rs, plan.proposedIds, who);
            recall::RecallRunner runner(db, dir);
            recall::RunOptions o;
            o.action = recall::RunAction::Recall;
            o.analyst = who;
            o.requestIds = requestIds;
            if (!requestIds.empty()) run = runner.run(o);
        }
        recall::RequestFilter sel;
        sel.ids = requestIds;
        const recall::StateCounts counts = requestIds.empty() ? recall::StateCounts{} : rs.counts(sel);
        if (p.isSet(jsonOpt)) {
            QJsonArray servers;
            for (const auto& [name, sp] : plan.servers)
                servers.append(QJsonObject{{"server", QString::fromStdString(name)},
                                           {"connector", QString::fromStdString(sp.connector)},
                                           {"copies", jint(sp.copies)},
                                           {"recallable", jint(sp.recallable)},
                                           {"not_recallable", jint(sp.notRecallable)},
                                           {"in_mailboxes", jint(sp.inMailboxes)},
                                           {"in_queue", jint(sp.inQueue)},
                                           {"recipients", jint(static_cast<std::int64_t>(sp.recipients.size()))}});
            QJsonObject o = countsJson(counts);
            o.insert(QStringLiteral("plan"), QJsonObject{{"messages", jint(plan.messages)},
                                                         {"copies", jint(plan.copies)},
                                                         {"recallable", jint(plan.recallable)},
                                                         {"not_recallable", jint(plan.notRecallable)},
                                                         {"already_known", jint(plan.alreadyKnown)},
                                                         {"proposed", jint(static_cast<std::int64_t>(plan.proposedIds.size()))},
                                                         {"servers", servers}});
            if (campaign) o.insert(QStringLiteral("campaign"), QJsonObject{{"id", jint(campaign)}, {"label", QString::fromStdString(label)}});
            o.insert(QStringLiteral("approved"), jint(approved));
            o.insert(QStringLiteral("approved_by"), planOnly ? QJsonValue() : QJsonValue(analyst));
            o.insert(QStringLiteral("run_id"), run.runId ? jint(run.runId) : QJsonValue());
            o.insert(QStringLiteral("processed"), jint(run.processed));
            o.insert(QStringLiteral("results"), resultsJson(run.results));
            o.insert(QStringLiteral("copies"), copiesJson(rs, requestIds));
            out << QJsonDocument(o).toJson(QJsonDocument::Compact) << "\n";
        } else {
            out << "recall plan: " << plan.messages << " messages, " << plan.copies << " copies, " << plan.recallable
                << " recallable, " << plan.notRecallable << " not recallable" << (plan.alreadyKnown ? QStringLiteral(" (%1 already planned earlier)").arg(plan.alreadyKnown) : QString()) << "\n";
            for (const auto& [name, sp] : plan.servers)
                out << "  " << QString::fromStdString(name) << " [" << (!sp.connector.empty() ? QString::fromStdString(sp.connector)
                                                         : sp.inMailboxes + sp.inQueue == 0 ? QStringLiteral("not ours or not delivered")
                                                                                            : QStringLiteral("no connector"))
                    << "]: " << sp.copies << " copies (" << sp.inMailboxes << " in mailboxes, " << sp.inQueue << " in the queue, "
                    << sp.notRecallable << " not recallable) for " << sp.recipients.size() << " recipients\n";
            if (planOnly) {
                out << "plan only: " << plan.proposedIds.size() << " requests wait for approval\n";
            } else {
                out << "approved by " << analyst << ": " << approved << " requests; run " << run.runId << ": " << run.processed
                    << " requests in " << run.elapsedMs << " ms\n";
                for (const recall::RequestResult& r : run.results)
                    out << "  " << QString::fromStdString(r.server) << " " << QString::fromStdString(r.recipient) << " <"
                        << QString::fromStdString(r.messageKey) << ">: " << recall::stateName(r.to)
                        << (r.folder.empty() ? QString() : QStringLiteral(" (found in %1)").arg(QString::fromStdString(r.folder)))
                        << " - " << QString::fromStdString(r.answer) << "\n";
                out << "states:\n";
                printCounts(out, counts);
            }
        }
        if (const int rc = nothingDone(run, err, "recall"); rc != kOk) {
            out.flush();
            return rc;
        }
        if (const auto it = run.outcomes.find("unreachable"); it != run.outcomes.end() && it->second > 0)
            err << "mailtriage-cli: recall: " << it->second << " requests could not reach their server (see the answers); "
                << "the same recall command retries them\n";
    } catch (const std::exception& e) {
        err << "mailtriage-cli: recall: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

int cmdVerdict(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption campaignOpt(QStringLiteral("campaign"), QStringLiteral("Campaign id."), QStringLiteral("ID"));
    QCommandLineOption serversOpt(QStringLiteral("servers"), QStringLiteral("Server directory (JSON) or 'demo'."), QStringLiteral("FILE"));
    QCommandLineOption approveOpt(QStringLiteral("approve-as"), QStringLiteral("Analyst's name."), QStringLiteral("NAME"));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    QCommandLineOption branchOpt(QStringLiteral("exclude-branch"),
                                 QStringLiteral("Leave out this message and everything below it in the propagation tree."),
                                 QStringLiteral("MESSAGE-ID"));
    QCommandLineOption joinedOpt(QStringLiteral("exclude-joined"),
                                 QStringLiteral("Leave out the messages that only joined the campaign through a link."));
    p.addOptions({caseOpt, campaignOpt, serversOpt, approveOpt, jsonOpt, branchOpt, joinedOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("verdict: --case FILE is required"));
    if (!p.isSet(campaignOpt)) return usage(err, QStringLiteral("verdict: --campaign ID is required"));
    const QStringList pos = p.positionalArguments();
    if (pos.size() != 1 || (pos[0] != QLatin1String("virus") && pos[0] != QLatin1String("clean")))
        return usage(err, QStringLiteral("verdict: say virus or clean"));
    const QString analyst = p.value(approveOpt).trimmed();
    if (analyst.isEmpty()) return usage(err, QStringLiteral("verdict: --approve-as NAME is required (who gives the verdict)"));
    bool ok = false;
    const std::int64_t campaign = p.value(campaignOpt).toLongLong(&ok);
    if (!ok || campaign <= 0) return usage(err, QStringLiteral("verdict: --campaign wants a campaign id"));
    recall::ServerDirectory dir;
    if (p.isSet(serversOpt) && !loadServers(p.value(serversOpt), dir, err)) return kInputFailed;
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        SqliteDb& db = store.db();
        recall::RecallStore rs(db);
        std::string label;
        std::vector<std::int64_t> messages = recall::campaignMessages(db, campaign, &label);
        if (messages.empty()) {
            err << "mailtriage-cli: verdict: no campaign " << campaign << " in " << p.value(caseOpt) << " (run detect)\n";
            return kInputFailed;
        }
        // Branches the analyst leaves out of this verdict (their copies stay suspended).
        recall::CampaignExclusions exclude;
        exclude.joinedByLink = p.isSet(joinedOpt);
        if (p.isSet(branchOpt)) {
            std::vector<std::string> mids, unknown;
            for (const QString& v : p.values(branchOpt)) mids.push_back(v.toStdString());
            exclude.branchRoots = recall::messagesByMessageId(db, mids, &unknown);
            if (!unknown.empty())
                return usage(err, QStringLiteral("verdict: --exclude-branch: no message %1 in the case").arg(QString::fromStdString(unknown.front())));
        }
        messages = recall::withoutExcluded(db, campaign, messages, exclude);
        if (messages.empty()) return usage(err, QStringLiteral("verdict: every message of the campaign is excluded"));
        recall::RequestFilter suspended;
        suspended.states = {recall::State::Suspended};
        suspended.caseMessageIds = messages;
        const std::int64_t nSuspended = rs.counts(suspended).requests;
        if (nSuspended > 0 && !p.isSet(serversOpt))
            return usage(err, QStringLiteral("verdict: %1 suspended copies need --servers servers.json (or 'demo') to be %2")
                                  .arg(nSuspended).arg(pos[0] == QLatin1String("virus") ? QStringLiteral("deleted") : QStringLiteral("released")));
        recall::VerdictOptions o;
        o.kind = pos[0] == QLatin1String("virus") ? recall::VerdictKind::Virus : recall::VerdictKind::Clean;
        o.analyst = analyst.toStdString();
        o.campaignId = campaign;
        o.exclude = exclude;
        const recall::VerdictReport rep = recall::applyVerdict(db, dir, o);
        recall::RequestFilter sel;
        sel.caseMessageIds = messages;
        recall::StateCounts counts = rs.counts(sel);
        // The next round's requests are for other messages: count them too.
        recall::StateCounts next;
        if (!rep.cascade.proposedIds.empty()) {
            recall::RequestFilter nf;
            nf.ids = rep.cascade.proposedIds;
            next = rs.counts(nf);
        }
        auto outcome = [&](const char* k) {
            const auto it = rep.run.outcomes.find(k);
            return it == rep.run.outcomes.end() ? std::int64_t(0) : it->second;
        };
        if (p.isSet(jsonOpt)) {
            QJsonObject o2 = countsJson(counts);
            o2.insert(QStringLiteral("verdict"), pos[0]);
            o2.insert(QStringLiteral("verdict_id"), jint(rep.verdictId));
            o2.insert(QStringLiteral("approved_by"), analyst);
            o2.insert(QStringLiteral("campaign"), QJsonObject{{"id", jint(campaign)}, {"label", QString::fromStdString(label)},
                                                             {"messages", jint(rep.messages)}, {"excluded", jint(rep.excluded)}});
            o2.insert(QStringLiteral("deleted"), jint(outcome("deleted")));
            o2.insert(QStringLiteral("released"), jint(outcome("released")));
            o2.insert(QStringLiteral("failed"), jint(outcome("failed") + outcome("refused")));
            o2.insert(QStringLiteral("allow_entries"), jint(rep.allowEntries));
            o2.insert(QStringLiteral("cascade"), QJsonObject{{"retrieved", jint(rep.cascade.retrieved)},
                                                            {"sent_on", jint(rep.cascade.sentOn)},
                                                            {"proposed", jint(static_cast<std::int64_t>(rep.cascade.proposedIds.size()))},
                                                            {"next_round", rep.cascade.nextRound},
                                                            {"servers", countsJson(next).value(QStringLiteral("servers"))}});
            o2.insert(QStringLiteral("results"), resultsJson(rep.run.results));
            std::vector<std::int64_t> ids;
            for (const recall::Request& r : rs.requests(sel)) ids.push_back(r.id);
            o2.insert(QStringLiteral("copies"), copiesJson(rs, ids));
            o2.insert(QStringLiteral("read_while_suspended"),
                      jint(static_cast<std::int64_t>(std::count_if(rep.run.results.begin(), rep.run.results.end(),
                                                                   [](const recall::RequestResult& r) { return r.readWhileSuspended; }))));
            out << QJsonDocument(o2).toJson(QJsonDocument::Compact) << "\n";
        } else {
            out << "verdict " << pos[0] << " on campaign " << campaign << " (" << QString::fromStdString(label) << ", "
                << rep.messages << " messages" << (rep.excluded ? QStringLiteral(", %1 left out").arg(rep.excluded) : QString())
                << ") by " << analyst << "\n";
            for (const recall::RequestResult& r : rep.run.results)
                out << "  " << QString::fromStdString(r.server) << " " << QString::fromStdString(r.recipient) << " <"
                    << QString::fromStdString(r.messageKey) << ">: " << recall::stateName(r.to) << " - "
                    << QString::fromStdString(r.answer) << "\n";
            if (o.kind == recall::VerdictKind::Virus)
                out << "cascade: " << rep.cascade.retrieved << " retrieved copies followed, " << rep.cascade.sentOn
                    << " campaign messages sent on, " << rep.cascade.proposedIds.size() << " requests proposed"
                    << (rep.cascade.nextRound ? QStringLiteral(" for round %1 (recall --proposed)").arg(rep.cascade.nextRound) : QString())
                    << "\n";
            else
                out << "allow entries added: " << rep.allowEntries << " (detection skips these messages from now on)\n";
            out << "states:\n";
            printCounts(out, counts);
        }
        if (const int rc = nothingDone(rep.run, err, "verdict"); rc != kOk) {
            out.flush();
            return rc;
        }
    } catch (const std::exception& e) {
        err << "mailtriage-cli: verdict: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

int cmdKeyring(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption hostOpt(QStringLiteral("host"), QStringLiteral("Server (host of the directory entry)."), QStringLiteral("HOST"));
    QCommandLineOption setOpt(QStringLiteral("set"), QStringLiteral("Store the password read from standard input."));
    QCommandLineOption deleteOpt(QStringLiteral("delete"), QStringLiteral("Remove the password."));
    p.addOptions({hostOpt, setOpt, deleteOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    const std::string host = p.value(hostOpt).trimmed().toStdString();
    if (host.empty()) return usage(err, QStringLiteral("keyring: --host HOST is required"));
    if (p.isSet(setOpt) == p.isSet(deleteOpt)) return usage(err, QStringLiteral("keyring: say --set or --delete"));
    QString error;
    if (p.isSet(deleteOpt)) {
        if (!recall::keyringDelete(host, &error)) {
            err << "mailtriage-cli: keyring: " << error << "\n";
            return kInputFailed;
        }
        out << "removed the IMAP password of " << QString::fromStdString(host) << " from the desktop keyring\n";
        return kOk;
    }
    QTextStream in(stdin);
    const QString secret = in.readLine();
    if (secret.isEmpty()) return usage(err, QStringLiteral("keyring: --set reads the password from standard input (one line)"));
    if (!recall::keyringWrite(host, secret.toStdString(), &error)) {
        err << "mailtriage-cli: keyring: " << error << "\n";
        return kInputFailed;
    }
    out << "stored the IMAP password of " << QString::fromStdString(host) << " in the desktop keyring (service \""
        << recall::keyringService() << "\", key \"" << recall::keyringKey(host) << "\")\n";
    return kOk;
}

int cmdAudit(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption csvOpt(QStringLiteral("csv"), QStringLiteral("Write CSV here."), QStringLiteral("OUT"));
    p.addOptions({caseOpt, csvOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("audit: --case FILE is required"));
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        recall::RecallStore rs(store.db());
        if (p.isSet(csvOpt)) {
            QString error;
            if (!rs.exportAuditCsv(p.value(csvOpt), &error)) {
                err << "mailtriage-cli: audit: " << p.value(csvOpt) << ": " << error << "\n";
                return kInputFailed;
            }
            out << "audit: " << rs.auditTrail().size() << " entries written to " << p.value(csvOpt) << "\n";
        } else {
            for (const recall::AuditEntry& e : rs.auditTrail())
                out << isoUtc(e.at) << "\t" << QString::fromStdString(e.analyst) << "\t" << QString::fromStdString(e.action)
                    << "\t" << QString::fromStdString(e.server) << "\t" << (e.requestId ? QString::number(e.requestId) : QString())
                    << "\t" << QString::fromStdString(e.messageKey) << "\t" << QString::fromStdString(e.recipient) << "\t"
                    << QString::fromStdString(e.stateFrom) << "\t" << QString::fromStdString(e.stateTo) << "\t"
                    << QString::fromStdString(e.answer).replace(QLatin1Char('\n'), QLatin1Char(' ')).replace(QLatin1Char('\r'), QLatin1Char(' ')) << "\n";
        }
    } catch (const std::exception& e) {
        err << "mailtriage-cli: audit: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

// enrol --case FILE [--json] [ENROLMENT...]: imports enrolment files (users whose messages the
// send-confirmation rule judges, with their keys); without a file, lists the enrolment. A file
// with any bad row is refused whole, with each row's reason (FILE:LINE: reason).
int cmdEnrol(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("Case file."), QStringLiteral("FILE"));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON output."));
    p.addOptions({caseOpt, jsonOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("enrol: --case FILE is required (enrol --case FILE [--json] [ENROLMENT.csv|.json]...)"));
    try {
        CaseStore store;
        store.open(p.value(caseOpt), !p.positionalArguments().isEmpty()); // enrolling may come before the first import
        int enrolled = 0;
        for (const QString& file : p.positionalArguments()) {
            const confirm::EnrolmentFile f = confirm::parseEnrolment(file.toStdString());
            if (!f.errors.empty()) {
                for (const std::string& e : f.errors) err << QString::fromStdString(e) << "\n";
                err << "mailtriage-cli: enrol: " << file << " refused (nothing of it was enrolled)\n";
                err.flush();
                return kInputFailed;
            }
            enrolled += confirm::storeEnrolment(store.db(), f.users, QFileInfo(file).fileName().toStdString());
        }
        const std::vector<confirm::EnrolledUser> all = confirm::loadEnrolment(store.db());
        if (p.isSet(jsonOpt)) {
            QJsonArray users;
            for (const confirm::EnrolledUser& u : all)
                users.append(QJsonObject{{"user", QString::fromStdString(u.user)},
                                         {"algorithm", QString::fromLatin1(confirm::algorithmName(u.algorithm))},
                                         {"key_id", QString::fromStdString(u.keyId)}});
            out << QJsonDocument(QJsonObject{{"enrolled", enrolled}, {"users", users}}).toJson(QJsonDocument::Compact) << "\n";
        } else {
            if (!p.positionalArguments().isEmpty()) out << "enrol " << p.value(caseOpt) << ": " << enrolled << " user(s) enrolled, " << all.size() << " in the case\n";
            else
                for (const confirm::EnrolledUser& u : all)
                    out << QString::fromStdString(u.user) << "\t" << confirm::algorithmName(u.algorithm) << "\t" << QString::fromStdString(u.keyId) << "\n";
        }
    } catch (const std::exception& e) {
        err << "mailtriage-cli: enrol: " << e.what() << "\n";
        return kInputFailed;
    }
    out.flush();
    return kOk;
}

} // namespace

int run(const QStringList& args, QTextStream& out, QTextStream& err) {
    if (args.isEmpty()) return usage(err, QStringLiteral("no command given"));
    const QString cmd = args.first();
    const QStringList rest = args.mid(1);
    if (cmd == QLatin1String("-h") || cmd == QLatin1String("--help") || cmd == QLatin1String("help")) {
        out << kUsageText;
        out.flush();
        return kOk;
    }
    if (cmd == QLatin1String("import"))
        return rest.contains(QLatin1String("--follow")) ? cmdFollow(rest, out, err) : cmdImport(rest, out, err);
    if (cmd == QLatin1String("messages")) return cmdMessages(rest, out, err);
    if (cmd == QLatin1String("summary")) return cmdSummary(rest, out, err);
    if (cmd == QLatin1String("simulate")) return cmdSimulate(rest, out, err);
    if (cmd == QLatin1String("detect")) return cmdDetect(rest, out, err);
    if (cmd == QLatin1String("rules")) return cmdRules(rest, out, err);
    if (cmd == QLatin1String("recall")) return cmdRecall(rest, out, err);
    if (cmd == QLatin1String("keyring")) return cmdKeyring(rest, out, err);
    if (cmd == QLatin1String("verdict")) return cmdVerdict(rest, out, err);
    if (cmd == QLatin1String("audit")) return cmdAudit(rest, out, err);
    if (cmd == QLatin1String("enrol")) return cmdEnrol(rest, out, err);
    return usage(err, QStringLiteral("unknown command '%1'").arg(cmd));
}

} // namespace mt::cli
