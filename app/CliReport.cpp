#include "CliReport.h"

#include "views/report/ReportFigures.h"
#include "model/CaseReader.h"
#include "model/report/Export.h"
#include "views/report/IncidentReport.h"

#include <QFile>
#include <QSaveFile>

#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>

namespace mt::cli {

int runReport(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    p.setApplicationDescription(QStringLiteral("Write the incident report of a case as a PDF."));
    const QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("The case file."), QStringLiteral("FILE"));
    const QCommandLineOption outOpt(QStringLiteral("output"), QStringLiteral("The PDF to write."), QStringLiteral("report.pdf"));
    const QCommandLineOption campaignOpt(QStringLiteral("campaign"), QStringLiteral("Only this campaign."), QStringLiteral("ID"));
    const QCommandLineOption pageOpt(QStringLiteral("page-size"), QStringLiteral("A4 (default) or Letter."), QStringLiteral("SIZE"),
                                     QStringLiteral("A4"));
    const QCommandLineOption analystOpt(QStringLiteral("analyst"), QStringLiteral("Name on the title page (default: the login)."),
                                        QStringLiteral("NAME"));
    const QCommandLineOption jsonOpt(QStringLiteral("json"), QStringLiteral("Print the outcome as JSON."));
    for (const auto& o : {caseOpt, outOpt, campaignOpt, pageOpt, analystOpt, jsonOpt}) p.addOption(o);
    if (!p.parse(QStringList{QStringLiteral("mailtriage-cli report")} + args)) {
        err << "report: " << p.errorText() << "\n";
        return 2;
    }
    if (!p.isSet(caseOpt) || !p.isSet(outOpt)) {
        err << "usage: mailtriage-cli report --case FILE --output report.pdf [--campaign ID] [--page-size A4|Letter] "
               "[--analyst NAME] [--json]\n";
        return 2;
    }
    report::ReportRequest req;
    req.casePath = p.value(caseOpt);
    req.outputPath = p.value(outOpt);
    const QString size = p.value(pageOpt).toLower();
    if (size == QLatin1String("a4")) req.pageSize = QPageSize(QPageSize::A4);
    else if (size == QLatin1String("letter")) req.pageSize = QPageSize(QPageSize::Letter);
    else {
        err << "report: --page-size wants A4 or Letter (got \"" << p.value(pageOpt) << "\")\n";
        return 2;
    }
    if (p.isSet(campaignOpt)) {
        bool ok = false;
        req.options.campaignId = p.value(campaignOpt).toLongLong(&ok);
        if (!ok || req.options.campaignId <= 0) {
            err << "report: --campaign wants a campaign id (a positive number)\n";
            return 2;
        }
    }
    req.options.analyst = p.value(analystOpt);
    if (!QFileInfo::exists(req.casePath)) {
        err << "report: no such case file: " << req.casePath << "\n";
        return 1;
    }
    report::ReportData data;
    QString error;
    if (!report::loadReportData(req.casePath, req.options, data, &error)) {
        err << "report: " << error << "\n";
        return 1;
    }
    if (req.options.campaignId > 0 && data.campaigns.isEmpty()) {
        err << "report: the case has no campaign #" << req.options.campaignId << "\n";
        return 1;
    }
    ReportFigureSource figures(req.casePath, req.options.campaignId);
    const report::ReportResult r = report::writeIncidentReport(data, req, figures.figures());
    if (!r.ok) {
        err << "report: " << r.error << "\n";
        return 1;
    }
    if (p.isSet(jsonOpt)) {
        QJsonObject o{{QStringLiteral("output"), QFileInfo(req.outputPath).absoluteFilePath()},
                      {QStringLiteral("pages"), r.pages},
                      {QStringLiteral("messages"), qint64(data.counts.messages)},
                      {QStringLiteral("flagged"), data.flagged},
                      {QStringLiteral("campaigns"), int(data.campaigns.size())},
                      {QStringLiteral("write_ms"), r.writeMs}};
        out << QJsonDocument(o).toJson(QJsonDocument::Compact) << "\n";
    } else {
        out << "report " << req.outputPath << ": " << r.pages << " pages, " << data.flagged << " flagged messages in "
            << data.campaigns.size() << " campaign(s); written in " << r.writeMs << " ms\n";
    }
    return 0;
}

int runExport(const QStringList& args, QTextStream& out, QTextStream& err) {
    QCommandLineParser p;
    const QCommandLineOption caseOpt(QStringLiteral("case"), QStringLiteral("The case file."), QStringLiteral("FILE"));
    const QCommandLineOption tableOpt(QStringLiteral("table"), QStringLiteral("messages, campaigns, recall or audit."), QStringLiteral("TABLE"));
    const QCommandLineOption formatOpt(QStringLiteral("format"), QStringLiteral("csv (default) or json."), QStringLiteral("FORMAT"),
                                       QStringLiteral("csv"));
    const QCommandLineOption outOpt(QStringLiteral("output"), QStringLiteral("File to write (default: standard output)."),
                                    QStringLiteral("FILE"));
    for (const auto& o : {caseOpt, tableOpt, formatOpt, outOpt}) p.addOption(o);
    if (!p.parse(QStringList{QStringLiteral("mailtriage-cli export")} + args)) {
        err << "export: " << p.errorText() << "\n";
        return 2;
    }
    report::ExportTable table;
    report::ExportFormat format;
    if (!p.isSet(caseOpt) || !p.isSet(tableOpt) || !report::exportTableFromName(p.value(tableOpt), table)
        || !report::exportFormatFromName(p.value(formatOpt), format)) {
        err << "usage: mailtriage-cli export --case FILE --table messages|campaigns|recall|audit [--format csv|json] [--output FILE]\n";
        return 2;
    }
    if (!QFileInfo::exists(p.value(caseOpt))) {
        err << "export: no such case file: " << p.value(caseOpt) << "\n";
        return 1;
    }
    if (const QString note = caseReadAccess(p.value(caseOpt)).note; !note.isEmpty()) {
        err << "export: note: " << note << "\n";
        err.flush();
    }
    report::ExportResult r;
    if (p.isSet(outOpt)) {
        // Written beside and renamed at the end: a failed export leaves no half file.
        QSaveFile f(p.value(outOpt));
        if (!f.open(QIODevice::WriteOnly)) {
            err << "export: cannot write " << p.value(outOpt) << ": " << f.errorString() << "\n";
            return 1;
        }
        r = report::exportTable(p.value(caseOpt), table, format, f);
        if (r.ok && !f.commit()) {
            r.ok = false;
            r.error = f.errorString();
        }
    } else {
        out.flush();
        QFile f;
        if (!f.open(stdout, QIODevice::WriteOnly)) return 1;
        r = report::exportTable(p.value(caseOpt), table, format, f);
    }
    if (!r.ok) {
        err << "export: " << r.error << "\n";
        return 1;
    }
    if (p.isSet(outOpt)) out << "export " << p.value(outOpt) << ": " << r.rows << " rows\n";
    return 0;
}

} // namespace mt::cli
