#include "MessageDetailsView.h"

#include <QDateTime>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPalette>
#include <QTimeZone>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

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
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat) + QStringLiteral(" (")
           + QLocale::c().toString(bytes) + QStringLiteral(" bytes)");
}

QString delayText(double seconds) {
    if (seconds <= 0) return QStringLiteral("0 s");
    if (seconds < 60) return QString::number(seconds, 'g', 3) + QStringLiteral(" s");
    if (seconds < 3600) return QString::number(seconds / 60, 'f', 1) + QStringLiteral(" min");
    if (seconds < 86400) return QString::number(seconds / 3600, 'f', 1) + QStringLiteral(" h");
    return QString::number(seconds / 86400, 'f', 1) + QStringLiteral(" d");
}

// Sent green, deferred amber, bounced and the like red; empty = the palette's text colour.
QColor statusColour(const QString& status) {
    if (status == QLatin1String("sent") || status == QLatin1String("delivered")) return QColor(0x1b, 0x7a, 0x1b);
    if (status == QLatin1String("deferred")) return QColor(0xa8, 0x64, 0x00);
    if (!status.isEmpty()) return QColor(0xb0, 0x00, 0x20);
    return {};
}

QString statusHtml(const QString& status) {
    const QColor c = statusColour(status);
    if (!c.isValid()) return esc(status);
    return QStringLiteral("<span style=\"color:") + c.name() + QStringLiteral("; font-weight:600\">") + esc(status)
           + QStringLiteral("</span>");
}

} // namespace

MessageDetailsView::MessageDetailsView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->setSpacing(4);

    m_placeholder = new QLabel(tr("Select a message to see its copies on each server and every delivery."), this);
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);
    {
        QPalette p = m_placeholder->palette();
        p.setColor(QPalette::WindowText, p.color(QPalette::PlaceholderText));
        m_placeholder->setPalette(p);
    }
    layout->addWidget(m_placeholder, 1);

    m_header = new QLabel(this);
    m_header->setTextFormat(Qt::RichText);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_header->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_header->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(m_header);

    m_evidence = new QLabel(this);
    m_evidence->setTextFormat(Qt::RichText);
    m_evidence->setWordWrap(true);
    m_evidence->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    m_evidence->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_evidence->setContentsMargins(4, 2, 4, 2);
    m_evidence->setAutoFillBackground(true);
    layout->addWidget(m_evidence);

    m_tree = new QTreeWidget(this);
    m_tree->setColumnCount(ColumnCount);
    m_tree->setHeaderLabels({tr("Recipient"), tr("Status"), tr("DSN"), tr("Transport"), tr("Relay"), tr("Delay"),
                             tr("Destination"), tr("Queued as"), tr("Final"), tr("Time (UTC)"), tr("Response")});
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tree->setTextElideMode(Qt::ElideRight);
    m_tree->header()->setStretchLastSection(true);
    m_tree->header()->setSectionResizeMode(QHeaderView::Interactive);
    m_tree->headerItem()->setTextAlignment(Delay, Qt::AlignRight | Qt::AlignVCenter);
    layout->addWidget(m_tree, 1);

    clear();
}

void MessageDetailsView::clear() {
    m_messageId = -1;
    m_copyCount = 0;
    m_deliveryCount = 0;
    m_text.clear();
    m_tree->clear();
    m_header->clear();
    m_header->hide();
    m_evidence->clear();
    m_evidence->hide();
    m_tree->hide();
    m_placeholder->show();
}

void MessageDetailsView::showMessage(const MessageView& m, const QVector<CopyView>& copies) {
    m_messageId = m.id;
    m_copyCount = static_cast<int>(copies.size());
    m_deliveryCount = 0;
    m_text.clear();

    // ---- header: subject, then the fields in two columns of label/value pairs
    const QString subject = m.subject.isEmpty() ? tr("(no subject logged)") : m.subject;
    m_text += subject + QLatin1Char('\n');
    QVector<QPair<QString, QString>> fields; // label, plain value
    auto field = [&fields](const QString& label, const QString& value) {
        if (!value.isEmpty()) fields.push_back({label, value});
    };
    field(tr("Message-ID"), m.messageId.isEmpty() ? tr("(none)") : QLatin1Char('<') + m.messageId + QLatin1Char('>'));
    field(tr("Time (UTC)"), timeText(m.time));
    field(tr("Sender"), m.sender.isEmpty() ? tr("<> (bounce)") : m.sender);
    field(tr("SASL user"), m.saslUser);
    field(tr("Client"), m.client());
    field(tr("Size"), sizeText(m.size));
    field(tr("Entered at"), m.originServer);
    field(tr("Attachments"), m.attachments.join(QStringLiteral(", ")));

    const QString muted = palette().color(QPalette::PlaceholderText).name();
    auto label = [&muted](const QString& s) {
        return QStringLiteral("<td style=\"color:") + muted + QStringLiteral("; padding-right:10px\">") + esc(s)
               + QStringLiteral("</td>");
    };
    QString html = QStringLiteral("<div style=\"font-size:large; font-weight:600\">") + esc(subject)
                   + QStringLiteral("</div><table cellspacing=\"0\" cellpadding=\"1\">");
    for (int i = 0; i < fields.size(); i += 2) {
        html += QStringLiteral("<tr>") + label(fields[i].first) + QStringLiteral("<td>") + esc(fields[i].second)
                + QStringLiteral("</td>");
        m_text += fields[i].first + QStringLiteral(": ") + fields[i].second + QLatin1Char('\n');
        if (i + 1 < fields.size()) {
            html += QStringLiteral("<td width=\"28\"></td>") + label(fields[i + 1].first) + QStringLiteral("<td>")
                    + esc(fields[i + 1].second) + QStringLiteral("</td>");
            m_text += fields[i + 1].first + QStringLiteral(": ") + fields[i + 1].second + QLatin1Char('\n');
        }
        html += QStringLiteral("</tr>");
    }
    html += QStringLiteral("</table>");
    if (!m.recipients.isEmpty()) {
        constexpr int kShown = 12;
        QStringList rs, plain;
        for (const RecipientView& r : m.recipients) {
            if (rs.size() == kShown) {
                rs << esc(tr("… and %1 more (see the copies below)").arg(m.recipients.size() - kShown));
                break;
            }
            QString s = esc(r.address) + QLatin1Char(' ') + statusHtml(r.status);
            QString p = r.address + QLatin1Char(' ') + r.status;
            if (!r.destination.isEmpty()) {
                s += QStringLiteral(" → ") + esc(r.destination);
                p += QStringLiteral(" -> ") + r.destination;
            }
            rs << s;
            plain << p;
        }
        const QString head = tr("Recipients (%1):").arg(m.recipients.size());
        html += QStringLiteral("<div style=\"margin-top:2px\"><span style=\"color:") + muted + QStringLiteral("\">")
                + esc(head) + QStringLiteral("</span> ") + rs.join(QStringLiteral("; ")) + QStringLiteral("</div>");
        m_text += head + QLatin1Char(' ') + plain.join(QStringLiteral("; ")) + QLatin1Char('\n');
    }
    m_header->setText(html);

    // ---- copies and their deliveries
    m_tree->clear();
    QList<QTreeWidgetItem*> items;
    QFont bold = m_tree->font();
    bold.setBold(true);
    int n = 0;
    for (const CopyView& c : copies) {
        ++n;
        QStringList facts;
        if (!c.client.isEmpty()) facts << tr("client %1").arg(c.client);
        else if (!c.origin.isEmpty()) facts << tr("created by %1").arg(c.origin);
        if (!c.saslUser.isEmpty()) facts << tr("SASL user %1").arg(c.saslUser);
        if (!c.sender.isEmpty() && c.sender != m.sender) facts << tr("from %1").arg(c.sender);
        if (c.firstSeen > 0) {
            QString seen = timeText(c.firstSeen);
            if (c.lastSeen > c.firstSeen) {
                const QString last = timeText(c.lastSeen);
                // Same day: only the time of the end.
                seen += QStringLiteral(" – ") + (last.left(10) == seen.left(10) ? last.mid(11) : last);
            }
            facts << seen;
        }
        if (c.size >= 0) facts << QLocale::c().formattedDataSize(c.size, 1, QLocale::DataSizeTraditionalFormat);
        if (c.nrcpt >= 0) facts << (c.nrcpt == 1 ? tr("1 recipient") : tr("%1 recipients").arg(c.nrcpt));
        facts << (c.removed ? tr("removed") : tr("NOT removed: still queued when the log ends"));
        // The details a line has no room for go to its tooltip.
        QStringList more;
        if (!c.origin.isEmpty()) more << tr("created by %1").arg(c.origin);
        if (!c.sender.isEmpty()) more << tr("envelope sender %1").arg(c.sender);
        if (c.size >= 0) more << tr("size %1").arg(sizeText(c.size));
        const QString title = tr("Copy %1 of %2 — %3, queue id %4").arg(n).arg(copies.size()).arg(c.server, c.queueId);
        const QString line = title + QStringLiteral(" · ") + facts.join(QStringLiteral(" · "));
        m_text += line + QLatin1Char('\n');

        auto* copyItem = new QTreeWidgetItem;
        copyItem->setText(0, line);
        copyItem->setFont(0, bold);
        copyItem->setToolTip(0, title + QLatin1Char('\n') + (facts + more).join(QLatin1Char('\n')));
        if (!c.removed) copyItem->setForeground(0, statusColour(QStringLiteral("deferred")));
        items << copyItem;
        if (c.deliveries.isEmpty()) {
            auto* none = new QTreeWidgetItem(copyItem);
            none->setText(0, tr("No deliveries logged for this copy."));
            none->setForeground(0, palette().color(QPalette::PlaceholderText));
            m_text += QStringLiteral("    ") + none->text(0) + QLatin1Char('\n');
            continue;
        }
        for (const DeliveryView& d : c.deliveries) {
            ++m_deliveryCount;
            auto* it = new QTreeWidgetItem(copyItem);
            QString status = d.status;
            if (d.attempts > 1) status += tr(" (%1 attempts)").arg(d.attempts);
            const QStringList cells = {d.recipient, status, d.dsn, d.transport, d.relay, delayText(d.delay),
                                       d.destination, d.queuedAs, d.isFinal ? tr("final") : tr("relayed on"),
                                       timeText(d.time), d.response};
            for (int col = 0; col < cells.size(); ++col) it->setText(col, cells[col]);
            it->setTextAlignment(Delay, Qt::AlignRight | Qt::AlignVCenter);
            const QColor sc = statusColour(d.status);
            if (sc.isValid()) it->setForeground(Status, sc);
            if (!d.origRecipient.isEmpty() && d.origRecipient != d.recipient)
                it->setToolTip(Recipient, tr("%1\noriginally addressed to %2").arg(d.recipient, d.origRecipient));
            if (!d.response.isEmpty()) it->setToolTip(Response, d.response);
            if (!d.relay.isEmpty()) it->setToolTip(Relay, d.relay);
            m_text += QStringLiteral("    ") + cells.join(QLatin1Char('\t')) + QLatin1Char('\n');
        }
    }
    m_tree->addTopLevelItems(items);
    for (QTreeWidgetItem* it : items) it->setFirstColumnSpanned(true);
    m_tree->expandAll();

    // Column widths from the delivery rows (the copies' spanned lines would blow up column 0),
    // capped so that one long relay or response cannot push the rest out of view.
    const QFontMetrics fm(m_tree->font());
    const int cap = std::max(240, width() / 5);
    for (int col = 0; col < ColumnCount - 1; ++col) {
        int w = fm.horizontalAdvance(m_tree->headerItem()->text(col)) + 16;
        for (QTreeWidgetItem* copy : items)
            for (int i = 0; i < copy->childCount() && i < 500; ++i)
                if (copy->child(i)->columnCount() > 1)
                    w = std::max(w, fm.horizontalAdvance(copy->child(i)->text(col)) + 14);
        if (col == Recipient) w += 2 * m_tree->indentation(); // the copy level and the branch
        m_tree->setColumnWidth(col, std::min(w, cap));
    }

    m_evidence->clear();
    m_evidence->hide();
    m_placeholder->hide();
    m_header->show();
    m_tree->show();
}

void MessageDetailsView::showEvidence(const FlagView& flag, const QString& campaignLabel, const QVector<HitView>& hits) {
    if (m_messageId < 0) return;
    const QString muted = palette().color(QPalette::PlaceholderText).name();
    QString html, plain;
    if (flag.messageId == 0 && hits.isEmpty()) {
        m_evidence->setText(QStringLiteral("<span style=\"color:") + muted + QStringLiteral("\">")
                            + esc(tr("Not flagged by detection.")) + QStringLiteral("</span>"));
        m_evidence->setPalette(palette());
        m_text += tr("Not flagged by detection.") + QLatin1Char('\n');
        m_evidence->show();
        return;
    }
    // A warm background and a marker: flagged is meant to be seen, and the words say it too.
    QPalette p = palette();
    p.setColor(QPalette::Window, QColor(0xff, 0xf1, 0xd6));
    p.setColor(QPalette::WindowText, QColor(0x20, 0x20, 0x20));
    m_evidence->setPalette(p);
    QStringList facts;
    if (flag.campaignId > 0)
        facts << tr("campaign #%1 %2").arg(flag.campaignId).arg(campaignLabel);
    if (flag.generation >= 0) facts << tr("generation %1").arg(flag.generation);
    if (flag.score > 0) facts << tr("score %1").arg(QLocale::c().toString(flag.score, 'g', 3));
    if (flag.flaggedAt > 0) facts << tr("flagged at %1").arg(timeText(flag.flaggedAt));
    if (flag.source == QLatin1String("parent")) facts << tr("joined through its propagation parent");
    else if (flag.source == QLatin1String("burst")) facts << tr("joined with its burst");
    const QString head = tr("⚑ Flagged: %1").arg(facts.join(QStringLiteral(" · ")));
    html += QStringLiteral("<div style=\"font-weight:600\">") + esc(head) + QStringLiteral("</div>");
    plain += head + QLatin1Char('\n');
    if (!hits.isEmpty()) {
        html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"2\"><tr>");
        for (const QString& h : {tr("Rule"), tr("Key"), tr("Window (UTC)"), tr("Count / threshold"), tr("Weight"), tr("Detail")})
            html += QStringLiteral("<th align=\"left\" style=\"padding-right:12px\">") + esc(h) + QStringLiteral("</th>");
        html += QStringLiteral("</tr>");
        constexpr int kShown = 12;
        int shown = 0;
        for (const HitView& h : hits) {
            QString window;
            if (h.windowEnd > 0) {
                const QString start = timeText(h.windowStart).left(19), end = timeText(h.windowEnd).left(19);
                window = h.windowStart > 0 && h.windowStart != h.windowEnd
                             ? start + QStringLiteral(" – ") + (start.left(10) == end.left(10) ? end.mid(11) : end)
                             : end;
            }
            const QString counts = h.threshold > 0 ? QStringLiteral("%1 / %2").arg(h.count).arg(h.threshold)
                                                   : (h.count > 0 ? QString::number(h.count) : QString());
            const QString weight = QLocale::c().toString(h.weight, 'g', 3);
            plain += QStringLiteral("  %1  %2  %3  %4  %5  %6\n").arg(h.rule, h.key, window, counts, weight, h.detail);
            if (++shown > kShown) continue;
            html += QStringLiteral("<tr><td style=\"padding-right:12px\"><b>") + esc(h.rule) + QStringLiteral("</b></td><td style=\"padding-right:12px\">")
                    + esc(h.key) + QStringLiteral("</td><td style=\"padding-right:12px\">") + esc(window)
                    + QStringLiteral("</td><td style=\"padding-right:12px\">") + esc(counts)
                    + QStringLiteral("</td><td style=\"padding-right:12px\">") + esc(weight) + QStringLiteral("</td><td>")
                    + esc(h.detail) + QStringLiteral("</td></tr>");
        }
        html += QStringLiteral("</table>");
        if (hits.size() > kShown)
            html += QStringLiteral("<div>") + esc(tr("… and %1 more hits").arg(hits.size() - kShown)) + QStringLiteral("</div>");
    }
    m_evidence->setText(html);
    m_text += plain;
    m_evidence->show();
}

} // namespace mt
