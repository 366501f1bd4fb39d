#include "IncidentReport.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHash>
#include <QLocale>
#include <QPainter>
#include <QTimeZone>

#include "model/recall/RecallTypes.h"

#include <optional>

#include <algorithm>
#include <map>

namespace mt::report {

namespace {

QString esc(const QString& s) { return s.toHtmlEscaped(); }
QString num(qint64 n) { return QLocale(QLocale::English).toString(n); }
QString when(qint64 ms) {
    if (ms <= 0) return QStringLiteral("-");
    return QDateTime::fromMSecsSinceEpoch(ms, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

// A two- or three-column table of counts.
QString countTable(const QVector<Count>& rows, const QString& name, const QString& value, const QString& extra = {}) {
    if (rows.isEmpty()) return QStringLiteral("<p class='muted'>None.</p>");
    QString h = QStringLiteral("<table width='100%'><thead><tr><th>%1</th><th class='num'>%2</th>").arg(esc(name), esc(value));
    if (!extra.isEmpty()) h += QStringLiteral("<th class='num'>%1</th>").arg(esc(extra));
    h += QStringLiteral("</tr></thead>");
    for (const Count& c : rows) {
        h += QStringLiteral("<tr><td>%1</td><td class='num' align='right'>%2</td>").arg(esc(c.name), num(c.value));
        if (!extra.isEmpty()) h += QStringLiteral("<td class='num' align='right'>%1</td>").arg(num(c.extra));
        h += QStringLiteral("</tr>");
    }
    return h + QStringLiteral("</table>");
}

QString figureMissing(const QString& what) {
    return QStringLiteral("<p class='muted'>%1 is not available in this build of the report.</p>").arg(esc(what));
}

// What each recall state means, for the summary: the words of the plan, the panel and the
// exports (recall::stateLabel, recall::stateDescription).
QString stateTitle(const QString& s) {
    const std::optional<recall::State> st = recall::stateFromName(s.toStdString());
    if (!st) return s;
    return QStringLiteral("%1 (%2)").arg(QString::fromLatin1(recall::stateLabel(*st)), QString::fromLatin1(recall::stateDescription(*st)));
}

} // namespace

void paintPropagationTree(QPainter& p, const QRectF& rect, const CampaignSection& c) {
    p.save();
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(QColor(0xc8, 0xc8, 0xc8), 1));
    p.drawRect(rect);
    if (c.tree.isEmpty()) {
        p.drawText(rect, Qt::AlignCenter, QStringLiteral("No propagation recorded."));
        p.restore();
        return;
    }
    int maxGen = 0;
    std::map<int, int> perGen;
    for (const auto& n : c.tree) {
        maxGen = std::max(maxGen, n.generation);
        ++perGen[n.generation];
    }
    const double pad = rect.height() * 0.06;
    const QRectF area = rect.adjusted(pad * 3, pad, -pad * 3, -pad * 1.6);
    const double colW = maxGen > 0 ? area.width() / maxGen : 0;
    // Children stay near their parents: order each generation by the parent's slot, then time.
    QHash<qint64, QPointF> pos;
    QHash<qint64, double> slot; // vertical order key
    std::map<int, std::vector<const CampaignSection::Node*>> byGen;
    for (const auto& n : c.tree) byGen[n.generation].push_back(&n);
    for (auto& [gen, nodes] : byGen) {
        std::stable_sort(nodes.begin(), nodes.end(), [&](const auto* a, const auto* b) {
            const double pa = slot.value(a->parent, -1), pb = slot.value(b->parent, -1);
            return pa != pb ? pa < pb : a->time < b->time;
        });
        const int k = int(nodes.size());
        for (int i = 0; i < k; ++i) {
            const double y = area.top() + (k == 1 ? area.height() / 2 : area.height() * i / (k - 1));
            const double x = maxGen > 0 ? area.left() + colW * gen : area.center().x();
            pos.insert(nodes[i]->id, QPointF(x, y));
            slot.insert(nodes[i]->id, double(i) / std::max(1, k));
        }
    }
    const double dot = std::clamp(area.height() / 120.0, rect.height() / 300.0, rect.height() / 60.0);
    p.setPen(QPen(QColor(0x9a, 0xb2, 0xc8), dot * 0.35));
    for (const auto& n : c.tree)
        if (n.parent && pos.contains(n.parent)) p.drawLine(pos.value(n.parent), pos.value(n.id));
    // Okabe-Ito orange for the worm's messages, black outline; patient zero larger and labelled.
    for (const auto& n : c.tree) {
        const QPointF at = pos.value(n.id);
        const bool zero = n.id == c.campaign.patientZeroMessage;
        p.setPen(QPen(Qt::black, dot * 0.25));
        p.setBrush(zero ? QColor(0xd5, 0x5e, 0x00) : QColor(0xe6, 0x9f, 0x00));
        p.drawEllipse(at, zero ? dot * 2.2 : dot, zero ? dot * 2.2 : dot);
    }
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPixelSize(std::max(8, int(rect.height() / 26)));
    p.setFont(f);
    p.setPen(QColor(0x20, 0x20, 0x20));
    const QFontMetricsF fm(f);
    for (int g = 0; g <= maxGen; ++g) {
        const double x = maxGen > 0 ? area.left() + colW * g : area.center().x();
        const QString label = QStringLiteral("gen %1 (%2)").arg(g).arg(perGen[g]);
        p.drawText(QPointF(x - fm.horizontalAdvance(label) / 2, rect.bottom() - fm.descent() - 2), label);
    }
    if (pos.contains(c.campaign.patientZeroMessage)) {
        const QPointF z = pos.value(c.campaign.patientZeroMessage);
        const QString who = QStringLiteral("patient zero: ") + c.campaign.patientZero;
        QPointF at(z.x() + dot * 3, z.y() - dot * 3);
        if (at.x() + fm.horizontalAdvance(who) > rect.right()) at.setX(rect.right() - fm.horizontalAdvance(who) - 2);
        if (at.y() - fm.ascent() < rect.top()) at.setY(rect.top() + fm.ascent() + 2);
        p.drawText(at, who);
    }
    p.restore();
}

ReportResult writeIncidentReport(const ReportRequest& request, const ReportFigures& figures) {
    ReportResult r;
    QElapsedTimer t;
    t.start();
    ReportData data;
    if (!loadReportData(request.casePath, request.options, data, &r.error)) return r;
    const qint64 loadMs = t.elapsed();
    r = writeIncidentReport(data, request, figures);
    r.loadMs = loadMs;
    return r;
}

ReportResult writeIncidentReport(const ReportData& d, const ReportRequest& request, const ReportFigures& figures) {
    ReportResult r;
    QElapsedTimer t;
    t.start();
    PagedReport rep(QStringLiteral("Incident report: %1").arg(d.caseName), request.pageSize);
    const QString period = QStringLiteral("%1 to %2").arg(when(d.periodFrom), when(d.periodTo));
    rep.setTitlePage(QStringLiteral("Mass-mailing worm investigation"),
                     {{QStringLiteral("Case"), d.caseName},
                      {QStringLiteral("Case file"), d.casePath},
                      {QStringLiteral("Period covered"), d.counts.messages ? period : QStringLiteral("no messages")},
                      {QStringLiteral("Analyst"), d.analyst},
                      {QStringLiteral("Generated at"), d.generatedAt.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"))},
                      {QStringLiteral("Scope"), request.options.campaignId > 0 ? QStringLiteral("campaign #%1").arg(request.options.campaignId)
                                                                               : QStringLiteral("every campaign")}});
    rep.setHeaderText(QStringLiteral("MailTriage incident report · %1").arg(d.caseName),
                      QStringLiteral("Generated %1").arg(d.generatedAt.toString(QStringLiteral("yyyy-MM-dd HH:mm 'UTC'"))));

    // Executive summary.
    rep.beginSection(QStringLiteral("Executive summary"));
    {
        QString h;
        if (!d.detected) {
            h += QStringLiteral("<p class='note'>Detection has not been run on this case: no message is flagged yet.</p>");
        } else if (d.campaigns.isEmpty()) {
            h += QStringLiteral("<p>Detection found no worm-like mail in this case.</p>");
        } else {
            const CampaignSection& first = d.campaigns.first();
            h += QStringLiteral("<p>Between %1 and %2 the mail servers carried %3 messages. Detection flagged <b>%4</b> of them "
                                "in <b>%5</b> campaign(s), reaching <b>%6</b> users in <b>%7</b> units. The first campaign, "
                                "<b>%8</b>, started with <b>%9</b> at %10 and was detected at %11.</p>")
                     .arg(when(d.periodFrom), when(d.periodTo), num(d.counts.messages), num(d.flagged))
                     .arg(d.campaigns.size())
                     .arg(num(d.usersReached), num(d.unitsReached), esc(first.campaign.label), esc(first.campaign.patientZero),
                          when(first.campaign.firstSeen), when(first.campaign.detectedAt));
        }
        h += QStringLiteral("<table width='70%'><thead><tr><th>Figure</th><th class='num'>Value</th></tr></thead>");
        auto row = [&](const QString& k, const QString& v) {
            h += QStringLiteral("<tr><td>%1</td><td class='num' align='right'>%2</td></tr>").arg(esc(k), esc(v));
        };
        row(QStringLiteral("Messages in the case"), num(d.counts.messages));
        row(QStringLiteral("Deliveries (recipients)"), num(d.counts.deliveries));
        row(QStringLiteral("Mail servers"), num(d.counts.servers));
        row(QStringLiteral("Users / units known"), QStringLiteral("%1 / %2").arg(num(d.counts.users), num(d.counts.units)));
        row(QStringLiteral("Flagged messages"), d.detected ? num(d.flagged) : QStringLiteral("not run"));
        row(QStringLiteral("Campaigns"), d.detected ? num(d.campaigns.size()) : QStringLiteral("not run"));
        row(QStringLiteral("Users reached"), d.detected ? num(d.usersReached) : QStringLiteral("-"));
        row(QStringLiteral("Units reached"), d.detected ? num(d.unitsReached) : QStringLiteral("-"));
        row(QStringLiteral("Flagged copies delivered (recipients)"), d.detected ? num(d.flaggedRecipients) : QStringLiteral("-"));
        if (d.hasRecall) {
            row(QStringLiteral("Copies suspended"), num(d.recallCount(QStringLiteral("suspended"))));
            row(QStringLiteral("Copies deleted"), num(d.recallCount(QStringLiteral("deleted"))));
            row(QStringLiteral("Copies released"), num(d.recallCount(QStringLiteral("released"))));
            qint64 failed = 0;
            for (const Count& c : d.recallStates)
                if (c.name.startsWith(QLatin1String("already")) || c.name.startsWith(QLatin1String("not")) ||
                    c.name == QLatin1String("unreachable"))
                    failed += c.value;
            row(QStringLiteral("Copies not recalled (read, not found, unreachable, external)"), num(failed));
            row(QStringLiteral("Copies already read before the recall"), num(d.recallReadBefore));
            row(QStringLiteral("Copies read while suspended"), num(d.recallReadWhileSuspended));
        } else {
            row(QStringLiteral("Recall"), QStringLiteral("no recall run"));
        }
        h += QStringLiteral("</table>");
        rep.addHtml(h);
    }
    rep.addSubheading(QStringLiteral("Timeline"));
    if (figures.timeline)
        rep.addFigure(85, QStringLiteral("Messages over time: all mail and flagged mail, detection moments marked"), figures.timeline);
    else
        rep.addHtml(figureMissing(QStringLiteral("The timeline")));
    rep.addSubheading(QStringLiteral("Organisation map"));
    if (figures.orgMap)
        rep.addFigure(150, QStringLiteral("Units by head count; badges: flagged mail; arrows: flagged mail from unit to unit"), figures.orgMap);
    else
        rep.addHtml(figureMissing(QStringLiteral("The org map")));

    // Campaigns.
    for (const CampaignSection& s : d.campaigns) {
        const CampaignView& c = s.campaign;
        rep.beginSection(QStringLiteral("Campaign #%1: %2").arg(c.id).arg(c.label));
        QString h = QStringLiteral("<table width='100%'>");
        auto fact = [&](const QString& k, const QString& v) {
            h += QStringLiteral("<tr><td class='muted' width='28%'>%1</td><td>%2</td></tr>").arg(esc(k), esc(v));
        };
        fact(QStringLiteral("Patient zero"), c.patientZero);
        fact(QStringLiteral("First seen"), when(c.firstSeen));
        fact(QStringLiteral("Detected at"), c.detectedAt > 0 ? when(c.detectedAt) : QStringLiteral("joined after detection"));
        if (c.detectedAt > 0 && c.firstSeen > 0)
            fact(QStringLiteral("Time to detection"), QStringLiteral("%1 s").arg(QLocale(QLocale::English).toString((c.detectedAt - c.firstSeen) / 1000.0, 'f', 1)));
        fact(QStringLiteral("Messages / senders / recipients"), QStringLiteral("%1 / %2 / %3").arg(num(c.messages), num(c.senders), num(c.recipients)));
        fact(QStringLiteral("Users reached"), num(s.usersReached));
        fact(QStringLiteral("Generations"), num(c.generations));
        fact(QStringLiteral("Units reached"), QStringLiteral("%1: %2").arg(c.units.size()).arg(c.units.mid(0, 12).join(QStringLiteral(", ")) + (c.units.size() > 12 ? QStringLiteral(", …") : QString())));
        h += QStringLiteral("</table>");
        rep.addHtml(h);
        rep.addSubheading(QStringLiteral("Propagation"));
        rep.addHtml(countTable(s.generations, QStringLiteral("Generation"), QStringLiteral("Messages")));
        rep.addFigure(95, QStringLiteral("Propagation tree of campaign #%1 (%2 of %3 messages drawn)").arg(c.id).arg(s.tree.size()).arg(c.messages),
                      [s](QPainter& p, const QRectF& rect) { paintPropagationTree(p, rect, s); });
        rep.addSubheading(QStringLiteral("Top units"));
        rep.addHtml(countTable(s.topUnits, QStringLiteral("Unit"), QStringLiteral("Flagged sent"), QStringLiteral("Recipients")));
        rep.addSubheading(QStringLiteral("Top senders"));
        rep.addHtml(countTable(s.topUsers, QStringLiteral("User"), QStringLiteral("Flagged sent"), QStringLiteral("Recipients")));
        rep.addSubheading(QStringLiteral("Attachments"));
        rep.addHtml(countTable(s.attachmentTypes, QStringLiteral("Type"), QStringLiteral("Messages")) + QStringLiteral("<br/>") +
                    countTable(s.attachments, QStringLiteral("Attachment name"), QStringLiteral("Messages")));
        rep.addSubheading(QStringLiteral("Rule evidence"));
        {
            QString e = QStringLiteral("<table width='100%'><thead><tr><th>Rule</th><th class='num'>Messages hit</th>"
                                       "<th class='num'>Highest count</th><th class='num'>Threshold</th><th>Example key</th></tr></thead>");
            for (const RuleEvidence& re : s.rules)
                e += QStringLiteral("<tr><td>%1</td><td class='num' align='right'>%2</td><td class='num' align='right'>%3</td>"
                                    "<td class='num' align='right'>%4</td><td>%5</td></tr>")
                         .arg(esc(re.rule), num(re.messages), num(re.maxCount), re.threshold > 0 ? num(re.threshold) : QStringLiteral("-"),
                              esc(re.sampleKey.left(70)));
            e += QStringLiteral("</table>");
            rep.addHtml(s.rules.isEmpty() ? QStringLiteral("<p class='muted'>No rule evidence stored.</p>") : e);
        }
    }

    // Recall.
    rep.beginSection(QStringLiteral("Recall outcomes"));
    if (!d.hasRecall) {
        rep.addHtml(QStringLiteral("<p class='muted'>No recall has been run in this case.</p>"));
    } else {
        rep.addHtml(countTable(d.recallStates, QStringLiteral("State"), QStringLiteral("Copies")));
        QString h = QStringLiteral("<table width='100%'><thead><tr><th>Server</th><th>State</th><th class='num'>Copies</th></tr></thead>");
        for (const RecallServerRow& srv : d.recallByServer)
            for (const Count& c : srv.states)
                h += QStringLiteral("<tr><td>%1</td><td>%2</td><td class='num' align='right'>%3</td></tr>")
                         .arg(esc(srv.server.isEmpty() ? QStringLiteral("(none)") : srv.server), esc(stateTitle(c.name)), num(c.value));
        rep.addSubheading(QStringLiteral("Per server"));
        rep.addHtml(h + QStringLiteral("</table>"));
    }

    // Audit trail.
    rep.beginSection(QStringLiteral("Appendix: audit trail"));
    if (d.audit.isEmpty()) {
        rep.addHtml(QStringLiteral("<p class='muted'>The audit trail is empty.</p>"));
    } else {
        // Small type, one line per action where it fits: an auditor reads it as a log.
        QString h = QStringLiteral("<p class='muted'>%1 actions, oldest first. Times UTC.</p>"
                                   "<table width='100%' style='font-size:7pt'><thead><tr><th>Time</th><th>Analyst</th><th>Action</th>"
                                   "<th>Server</th><th>Request</th><th>Answer</th></tr></thead>").arg(num(d.audit.size()));
        for (const AuditRow& a : d.audit)
            h += QStringLiteral("<tr><td style='font-size:7pt'>%1</td><td style='font-size:7pt'>%2</td><td style='font-size:7pt'>%3</td>"
                                "<td style='font-size:7pt'>%4</td><td style='font-size:7pt'>%5</td><td style='font-size:7pt'>%6</td></tr>")
                     .arg(esc(a.time > 0 ? QDateTime::fromMSecsSinceEpoch(a.time, QTimeZone::utc()).toString(QStringLiteral("MM-dd HH:mm:ss")) : QString()),
                          esc(a.analyst), esc(a.action), esc(a.server), esc(a.request.left(70)), esc(a.answer.left(60)));
        rep.addHtml(h + QStringLiteral("</table>"));
    }

    if (!rep.write(request.outputPath, &r.error)) return r;
    r.ok = true;
    r.pages = rep.pageCount();
    r.writeMs = t.elapsed();
    return r;
}

} // namespace mt::report
