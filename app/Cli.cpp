#include "Cli.h"

#include "model/CaseReader.h"
#include "model/CaseStore.h"
#include "model/ImportJob.h"
#include "model/detection/CaseDetection.h"
#include "model/simulator/Simulator.h"
#include "importers/PostfixLog.h"

#include <QCommandLineParser>
#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace mt::cli {

namespace {

constexpr int kOk = 0, kInputFailed = 1, kUsage = 2;

const char* const kUsageText =
    "Usage: mailtriage-cli <command> [options]\n"
    "\n"
    "Commands:\n"
    "  import    --case FILE.mtcase [--org ORGFILE]... [--org-map FIELD=HEADER]... [--year YYYY] [--tz ZONE]\n"
    "            [--json] LOG...\n"
    "            Create the case if missing and import Postfix logs (plain or .gz) and org charts (CSV, LDIF).\n"
    "            --year: year of classic syslog stamps (default: from each file's date).\n"
    "            --tz: zone of stamps without one, e.g. Europe/Berlin (default: UTC).\n"
    "  messages  --case FILE [--format tsv|jsonl] [--flagged [--campaign ID]]\n"
    "            One line per logical message with its recipients, destinations and statuses.\n"
    "            --flagged: only the messages detection flagged, with their rule ids and campaign.\n"
    "  detect    --case FILE [--rules FILE] [--full] [--json]\n"
    "            Run detection (the case's rule set, or --rules FILE, which becomes the case's) and store the\n"
    "            hits and campaigns, replacing the previous results. Incremental when the case only gained\n"
    "            later messages since the last run with the same rules; --full judges everything again.\n"
    "  rules     --case FILE [--export FILE | --import FILE]\n"
    "            Print, export or import the case's detection rule set (JSON).\n"
    "  summary   --case FILE [--json]\n"
    "            Counts in the case and the import runs.\n"
    "  simulate  --out DIR [--users N] [--servers K] [--hours H] [--seed S]\n"
    "            [--worm iloveyou|melissa|polymorphic|none] [--open-prob P] [--stamp rfc3339|classic] [--json]\n"
    "            Write a simulated organisation's org chart, Postfix logs and truth.json (same seed, same bytes).\n"
    "\n"
    "Exit status: 0 success, 1 an input could not be imported, 2 bad usage.\n";

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
    QCommandLineOption yearOpt(QStringLiteral("year"), QStringLiteral("Year of classic syslog stamps."), QStringLiteral("YYYY"));
    QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON summary."));
    QCommandLineOption tzOpt(QStringLiteral("tz"), QStringLiteral("Zone of stamps without one."), QStringLiteral("ZONE"));
    p.addOptions({caseOpt, orgOpt, mapOpt, mapAlias, yearOpt, jsonOpt, tzOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("import: --case FILE is required"));
    const QStringList logs = p.positionalArguments();
    const QStringList orgs = p.values(orgOpt);
    if (logs.isEmpty() && orgs.isEmpty()) return usage(err, QStringLiteral("import: give at least one LOG or --org file"));
    ImportOptions options;
    if (p.isSet(yearOpt)) {
        bool ok = false;
        options.year = p.value(yearOpt).toInt(&ok);
        if (!ok || options.year < 1970 || options.year > 9999)
            return usage(err, QStringLiteral("import: --year wants a four-digit year, not '%1'").arg(p.value(yearOpt)));
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

std::unique_ptr<CaseReader> openReader(const QString& path, QTextStream& err) {
    auto r = std::make_unique<CaseReader>(path);
    if (!r->isOpen()) {
        err << "mailtriage-cli: " << r->error() << "\n";
        return nullptr;
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
    p.addOptions({caseOpt, exportOpt, importOpt});
    int code = kOk;
    if (!parse(p, args, err, code)) return code;
    if (!p.isSet(caseOpt)) return usage(err, QStringLiteral("rules: --case FILE is required"));
    if (p.isSet(exportOpt) && p.isSet(importOpt)) return usage(err, QStringLiteral("rules: --export or --import, not both"));
    try {
        CaseStore store;
        store.open(p.value(caseOpt), false);
        if (p.isSet(importOpt)) {
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
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("JSON."));
    p.addOptions({outOpt, usersOpt, serversOpt, hoursOpt, seedOpt, wormOpt, openOpt, stampOpt, jsonOpt});
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
        return usage(err, QStringLiteral("simulate: --worm is iloveyou, melissa, polymorphic or none, not '%1'").arg(p.value(wormOpt)));
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
    if (cmd == QLatin1String("import")) return cmdImport(rest, out, err);
    if (cmd == QLatin1String("messages")) return cmdMessages(rest, out, err);
    if (cmd == QLatin1String("summary")) return cmdSummary(rest, out, err);
    if (cmd == QLatin1String("simulate")) return cmdSimulate(rest, out, err);
    if (cmd == QLatin1String("detect")) return cmdDetect(rest, out, err);
    if (cmd == QLatin1String("rules")) return cmdRules(rest, out, err);
    return usage(err, QStringLiteral("unknown command '%1'").arg(cmd));
}

} // namespace mt::cli
