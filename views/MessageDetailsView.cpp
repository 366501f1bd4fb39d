#include "MessageDetailsView.h"

#include <QDateTime>
#include <QLocale>
#include <QPalette>
#include <QTextBrowser>
#include <QTimeZone>
#include <QVBoxLayout>

namespace mt {

namespace {

QString esc(const QString& s) { return s.toHtmlEscaped(); }

QString timeText(qint64 msUtc) {
    if (msUtc <= 0) return {};
    return QDateTime::fromMSecsSinceEpoch(msUtc, QTimeZone::utc()).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"));
}

QString sizeText(qint64 bytes) {
    if (bytes < 0) return {};
    if (bytes < 1024) return QStringLiteral("%1 bytes").arg(bytes);
    return QStringLiteral("%1 (%2 bytes)")
        .arg(QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat), QLocale::c().toString(bytes));
}

QString delayText(double seconds) {
    if (seconds <= 0) return QStringLiteral("0 s");
    if (seconds < 60) return QStringLiteral("%1 s").arg(seconds, 0, 'g', 3);
    if (seconds < 3600) return QStringLiteral("%1 min").arg(seconds / 60, 0, 'f', 1);
    if (seconds < 86400) return QStringLiteral("%1 h").arg(seconds / 3600, 0, 'f', 1);
    return QStringLiteral("%1 d").arg(seconds / 86400, 0, 'f', 1);
}

// Sent green, deferred amber, bounced and the like red.
QString statusHtml(const QString& status, int attempts) {
    QString colour;
    if (status == QLatin1String("sent") || status == QLatin1String("delivered")) colour = QStringLiteral("#1b7a1b");
    else if (status == QLatin1String("deferred")) colour = QStringLiteral("#a86400");
    else if (!status.isEmpty()) colour = QStringLiteral("#b00020");
    QString s = colour.isEmpty() ? esc(status)
                                 : QStringLiteral("<span style=\"color:%1; font-weight:600\">%2</span>").arg(colour, esc(status));
    if (attempts > 1) s += QStringLiteral(" (%1 attempts)").arg(attempts);
    return s;
}

void fieldRow(QString& html, const QString& label, const QString& valueHtml) {
    if (valueHtml.isEmpty()) return;
    html += QStringLiteral("<tr><td class=\"k\">%1</td><td>%2</td></tr>").arg(esc(label), valueHtml);
}

} // namespace

MessageDetailsView::MessageDetailsView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    m_browser = new QTextBrowser(this);
    m_browser->setOpenLinks(false);
    m_browser->setFrameShape(QFrame::StyledPanel);
    const QPalette pal = palette();
    m_browser->document()->setDefaultStyleSheet(
        QStringLiteral("h2 { margin: 0 0 4px 0; }"
                       "h3 { margin: 10px 0 2px 0; }"
                       "td.k { color: %1; padding-right: 12px; white-space: nowrap; }"
                       "table.d { border-collapse: collapse; }"
                       "table.d th { background: %2; text-align: left; padding: 2px 8px 2px 4px; border: 1px solid %3; }"
                       "table.d td { padding: 2px 8px 2px 4px; border: 1px solid %3; }"
                       ".muted { color: %1; }")
            .arg(pal.color(QPalette::PlaceholderText).name(), pal.color(QPalette::AlternateBase).name(),
                 pal.color(QPalette::Mid).name()));
    layout->addWidget(m_browser);
    clear();
}

void MessageDetailsView::clear() {
    m_messageId = -1;
    m_copyCount = 0;
    m_deliveryCount = 0;
    m_browser->setHtml(QStringLiteral("<p class=\"muted\" align=\"center\"><br/>%1</p>")
                           .arg(esc(tr("Select a message to see its copies on each server and every delivery."))));
}

QString MessageDetailsView::plainText() const { return m_browser->toPlainText(); }

void MessageDetailsView::showMessage(const MessageView& m, const QVector<CopyView>& copies) {
    m_messageId = m.id;
    m_copyCount = static_cast<int>(copies.size());
    m_deliveryCount = 0;

    QString html;
    html += QStringLiteral("<h2>%1</h2>").arg(m.subject.isEmpty() ? tr("(no subject logged)") : esc(m.subject));
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"1\">");
    fieldRow(html, tr("Message-ID"), m.messageId.isEmpty() ? tr("(none)") : esc(QLatin1Char('<') + m.messageId + QLatin1Char('>')));
    fieldRow(html, tr("Time (UTC)"), esc(timeText(m.time)));
    fieldRow(html, tr("Sender"), m.sender.isEmpty() ? tr("&lt;&gt; (bounce)") : esc(m.sender));
    fieldRow(html, tr("Client"), esc(m.client()));
    fieldRow(html, tr("SASL user"), esc(m.saslUser));
    fieldRow(html, tr("Size"), esc(sizeText(m.size)));
    fieldRow(html, tr("Entered at"), esc(m.originServer));
    fieldRow(html, tr("Attachments"), esc(m.attachments.join(QStringLiteral(", "))));
    if (!m.recipients.isEmpty()) {
        QStringList rs;
        for (const RecipientView& r : m.recipients) {
            QString s = esc(r.address) + QStringLiteral(" — ") + statusHtml(r.status, 0);
            if (!r.destination.isEmpty()) s += QStringLiteral(" → ") + esc(r.destination);
            rs << s;
        }
        fieldRow(html, tr("Recipients (%1)").arg(m.recipients.size()), rs.join(QStringLiteral("<br/>")));
    }
    html += QStringLiteral("</table>");

    if (copies.isEmpty())
        html += QStringLiteral("<h3>%1</h3>").arg(esc(tr("No copies recorded")));
    int n = 0;
    for (const CopyView& c : copies) {
        ++n;
        html += QStringLiteral("<h3>%1</h3>")
                    .arg(esc(tr("Copy %1 of %2 — server %3, queue id %4").arg(n).arg(copies.size()).arg(c.server, c.queueId)));
        QStringList facts;
        if (!c.origin.isEmpty()) facts << tr("created by %1").arg(esc(c.origin));
        if (!c.client.isEmpty()) facts << tr("client %1").arg(esc(c.client));
        if (!c.saslUser.isEmpty()) facts << tr("SASL user %1").arg(esc(c.saslUser));
        if (!c.sender.isEmpty()) facts << tr("from %1").arg(esc(c.sender));
        if (c.firstSeen > 0) facts << tr("first seen %1").arg(esc(timeText(c.firstSeen)));
        if (c.lastSeen > 0) facts << tr("last seen %1").arg(esc(timeText(c.lastSeen)));
        if (c.size >= 0) facts << tr("size %1").arg(esc(sizeText(c.size)));
        if (c.nrcpt >= 0) facts << tr("%n recipient(s)", nullptr, c.nrcpt);
        facts << (c.removed ? tr("removed from the queue") : tr("<b>not removed</b> (still queued when the log ends)"));
        html += QStringLiteral("<p style=\"margin:0 0 4px 0\">%1</p>").arg(facts.join(QStringLiteral(" · ")));

        if (c.deliveries.isEmpty()) {
            html += QStringLiteral("<p class=\"muted\">%1</p>").arg(esc(tr("No deliveries logged for this copy.")));
            continue;
        }
        html += QStringLiteral("<table class=\"d\" cellspacing=\"0\" cellpadding=\"2\"><tr>");
        for (const QString& h : {tr("Recipient"), tr("Status"), tr("DSN"), tr("Transport"), tr("Relay"), tr("Delay"),
                                 tr("Destination"), tr("Queued as"), tr("Final"), tr("Time (UTC)"), tr("Response")})
            html += QStringLiteral("<th>%1</th>").arg(esc(h));
        html += QStringLiteral("</tr>");
        for (const DeliveryView& d : c.deliveries) {
            ++m_deliveryCount;
            QString rcpt = esc(d.recipient);
            if (!d.origRecipient.isEmpty() && d.origRecipient != d.recipient)
                rcpt += QStringLiteral("<br/><span class=\"muted\">%1</span>").arg(esc(tr("orig. %1").arg(d.origRecipient)));
            // Concatenated, not arg()-chained: logged text may itself contain "%1".
            const QStringList cells = {rcpt, statusHtml(d.status, d.attempts), esc(d.dsn), esc(d.transport), esc(d.relay),
                                       esc(delayText(d.delay)), esc(d.destination), esc(d.queuedAs),
                                       d.isFinal ? tr("final") : tr("relayed on"), esc(timeText(d.time)), esc(d.response)};
            html += QStringLiteral("<tr>");
            for (int i = 0; i < cells.size(); ++i)
                html += (i == 5    ? QStringLiteral("<td align=\"right\" nowrap>")
                         : i == 10 ? QStringLiteral("<td>") // the server's response may wrap
                                   : QStringLiteral("<td nowrap>"))
                        + cells[i]
                        + QStringLiteral("</td>");
            html += QStringLiteral("</tr>");
        }
        html += QStringLiteral("</table>");
    }
    m_browser->setHtml(html);
}

} // namespace mt
