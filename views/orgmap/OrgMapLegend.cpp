#include "OrgMapLegend.h"

#include "OrgMapGlyphs.h"

#include <QPainter>

namespace mt {

using namespace orgmap;

namespace {
constexpr int kShownCampaigns = 5;
}

OrgMapLegend::OrgMapLegend(QWidget* parent) : QWidget(parent) {
    setAccessibleName(tr("Org map legend"));
}

void OrgMapLegend::setCampaigns(const QVector<CampaignInfo>& campaigns) {
    m_campaigns = campaigns;
    updateGeometry();
    update();
}

int OrgMapLegend::rows() const {
    // Title rows + heat (2 rows) + types (3 rows) + recall (1) + links + outlines (2)
    return 1 + 2 + 1 + 3 + 1 + 1 + std::max<int>(1, std::min<int>(kShownCampaigns, m_campaigns.size())) + 2;
}

QSize OrgMapLegend::sizeHint() const {
    const int lh = fontMetrics().height() + 4;
    return QSize(300, rows() * lh + 8);
}

void OrgMapLegend::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.fillRect(rect(), palette().base());
    const int lh = fontMetrics().height() + 4;
    const double g = fontMetrics().height() * 0.95;
    const int x0 = 6;
    int y = 4;
    QFont bold = font();
    bold.setBold(true);
    auto heading = [&](const QString& text) {
        p.setFont(bold);
        p.setPen(palette().text().color());
        p.drawText(QRect(x0, y, width() - 2 * x0, lh), Qt::AlignVCenter | Qt::AlignLeft, text);
        p.setFont(font());
        y += lh;
    };
    // Heat: pill colour and meter bars, by flagged total.
    heading(tr("Flagged mail per unit: \u2191 sent \u2193 received"));
    const int colW = (width() - 2 * x0) / 3;
    for (int level = 1; level <= 5; ++level) {
        const int col = (level - 1) % 3, row = (level - 1) / 3;
        const QRectF meter(x0 + col * colW, y + row * lh + (lh - g) / 2, g * 1.3, g * 0.9);
        drawHeatMeter(&p, meter, level);
        p.setPen(palette().text().color());
        p.drawText(QRectF(meter.right() + 4, y + row * lh, colW - meter.width() - 6, lh), Qt::AlignVCenter | Qt::AlignLeft,
                   heatLevelRange(level));
    }
    y += 2 * lh;
    heading(tr("Attachment types"));
    const TypeFamily types[] = {TypeFamily::Script, TypeFamily::Executable, TypeFamily::Macro, TypeFamily::Archive,
                                TypeFamily::DoubleExtension, TypeFamily::OtherAttachment};
    const int tcolW = (width() - 2 * x0) / 2;
    for (int i = 0; i < 6; ++i) {
        const int col = i % 2, row = i / 2;
        const QRectF r(x0 + col * tcolW, y + row * lh + (lh - g) / 2, g, g);
        drawTypeGlyph(&p, r, types[i]);
        p.setPen(palette().text().color());
        p.setFont(font());
        p.drawText(QRectF(r.right() + 5, y + row * lh, tcolW - g - 6, lh), Qt::AlignVCenter | Qt::AlignLeft, typeFamilyName(types[i]));
    }
    y += 3 * lh;
    // Recall.
    {
        const std::pair<RecallKind, QString> kinds[] = {{RecallKind::Suspended, tr("suspended")}, {RecallKind::Failed, tr("read / not recalled")},
                                                        {RecallKind::Deleted, tr("deleted")}};
        int x = x0;
        p.setFont(bold);
        p.setPen(palette().text().color());
        const QString title = tr("Recall");
        p.drawText(QRect(x, y, 60, lh), Qt::AlignVCenter | Qt::AlignLeft, title);
        x += fontMetrics().horizontalAdvance(title) + 14;
        p.setFont(font());
        for (const auto& [k, name] : kinds) {
            drawRecallGlyph(&p, QRectF(x, y + (lh - g) / 2, g, g), k);
            p.setPen(palette().text().color());
            p.setFont(font());
            const int w = fontMetrics().horizontalAdvance(name);
            p.drawText(QRect(int(x + g + 3), y, w + 2, lh), Qt::AlignVCenter | Qt::AlignLeft, name);
            x += int(g) + w + 14;
        }
        y += lh;
    }
    heading(tr("Links: source \u2192 destination, width by volume"));
    if (m_campaigns.isEmpty()) {
        p.setPen(palette().placeholderText().color());
        p.drawText(QRect(x0, y, width() - 2 * x0, lh), Qt::AlignVCenter | Qt::AlignLeft, tr("no campaigns"));
        y += lh;
    }
    for (int i = 0; i < std::min<int>(kShownCampaigns, m_campaigns.size()); ++i) {
        const QColor c = campaignColor(i);
        const double cy = y + lh / 2.0;
        p.setPen(QPen(c, 4, Qt::SolidLine, Qt::FlatCap));
        p.drawLine(QPointF(x0, cy), QPointF(x0 + 26, cy));
        p.setPen(QPen(Qt::black, 1));
        p.setBrush(c);
        p.drawPolygon(QPolygonF({QPointF(x0 + 34, cy), QPointF(x0 + 24, cy - 6), QPointF(x0 + 24, cy + 6)}));
        p.setPen(palette().text().color());
        const QString label = QStringLiteral("#%1 %2").arg(m_campaigns[i].id).arg(m_campaigns[i].label);
        p.drawText(QRect(x0 + 40, y, width() - x0 - 46, lh), Qt::AlignVCenter | Qt::AlignLeft,
                   fontMetrics().elidedText(label, Qt::ElideRight, width() - x0 - 46));
        y += lh;
    }
    // Outlines.
    p.setBrush(Qt::NoBrush);
    p.setPen(QPen(Qt::black, 3));
    p.drawRect(QRectF(x0 + 2, y + 4, 28, lh - 8));
    p.setPen(QPen(Qt::white, 1.5, Qt::DashLine));
    p.drawRect(QRectF(x0 + 5, y + 7, 22, lh - 14));
    p.setPen(palette().text().color());
    p.drawText(QRect(x0 + 40, y, width() - x0 - 46, lh), Qt::AlignVCenter | Qt::AlignLeft, tr("selected unit"));
    y += lh;
    p.setPen(QPen(typeColor(TypeFamily::Script), 4));
    p.drawRect(QRectF(x0 + 2, y + 4, 28, lh - 8));
    p.setPen(palette().text().color());
    p.drawText(QRect(x0 + 40, y, width() - x0 - 46, lh), Qt::AlignVCenter | Qt::AlignLeft, tr("lit: flagged mail in the last 5 min (playback)"));
}

} // namespace mt
