#include "OrgMapGlyphs.h"

#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>
#include <algorithm>
#include <cmath>

namespace mt::orgmap {

namespace {
const QColor kOkabeIto[] = {QColor(0xE6, 0x9F, 0x00), QColor(0x56, 0xB4, 0xE9), QColor(0x00, 0x9E, 0x73), QColor(0xF0, 0xE4, 0x42),
                            QColor(0x00, 0x72, 0xB2), QColor(0xD5, 0x5E, 0x00), QColor(0xCC, 0x79, 0xA7), QColor(0x00, 0x00, 0x00)};

void glyphLetter(QPainter* p, const QRectF& r, const QString& letter, const QColor& fg) {
    QFont f = p->font();
    f.setPixelSize(std::max(1, static_cast<int>(r.height() * 0.62)));
    f.setBold(true);
    p->setFont(f);
    p->setPen(fg);
    p->drawText(r, Qt::AlignCenter, letter);
}
} // namespace

int heatLevel(int total) {
    if (total <= 0) return 0;
    if (total < 5) return 1;
    if (total < 20) return 2;
    if (total < 50) return 3;
    if (total < 200) return 4;
    return 5;
}

QString heatLevelRange(int level) {
    switch (level) {
    case 1: return QStringLiteral("1-4");
    case 2: return QStringLiteral("5-19");
    case 3: return QStringLiteral("20-49");
    case 4: return QStringLiteral("50-199");
    case 5: return QStringLiteral("200+");
    default: return QStringLiteral("0");
    }
}

QColor heatColor(int level) {
    // Viridis, light (low) to dark (high).
    static const QColor ramp[] = {QColor(0, 0, 0, 0), QColor(0xFD, 0xE7, 0x25), QColor(0x5E, 0xC9, 0x62), QColor(0x21, 0x91, 0x8C),
                                  QColor(0x3B, 0x52, 0x8B), QColor(0x44, 0x01, 0x54)};
    return ramp[std::clamp(level, 0, 5)];
}

QColor heatTextColor(int level) { return level <= 2 ? Qt::black : Qt::white; }

void drawHeatMeter(QPainter* p, const QRectF& r, int level) {
    p->save();
    const double gap = r.width() * 0.06;
    const double bw = (r.width() - 4 * gap) / 5;
    for (int i = 0; i < 5; ++i) {
        const double h = r.height() * (0.4 + 0.15 * i);
        const QRectF bar(r.left() + i * (bw + gap), r.bottom() - h, bw, h);
        p->setPen(QPen(QColor(60, 60, 60), 0));
        p->setBrush(i < level ? heatColor(level) : QColor(255, 255, 255));
        p->drawRect(bar);
    }
    p->restore();
}

QColor typeColor(TypeFamily f) {
    switch (f) {
    case TypeFamily::Script: return kOkabeIto[5];
    case TypeFamily::Executable: return kOkabeIto[4];
    case TypeFamily::Macro: return kOkabeIto[0];
    case TypeFamily::Archive: return kOkabeIto[2];
    case TypeFamily::DoubleExtension: return kOkabeIto[6];
    case TypeFamily::OtherAttachment: return QColor(0x99, 0x99, 0x99);
    default: return QColor(0xBB, 0xBB, 0xBB);
    }
}

void drawTypeGlyph(QPainter* p, const QRectF& r, TypeFamily f) {
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    const QColor c = typeColor(f);
    p->setPen(QPen(Qt::black, 0));
    p->setBrush(c);
    QString letter;
    QColor fg = Qt::white;
    const QPointF m = r.center();
    switch (f) {
    case TypeFamily::Script:
        p->drawEllipse(r);
        letter = QStringLiteral("S");
        break;
    case TypeFamily::Executable:
        p->drawRect(r.adjusted(r.width() * 0.05, r.height() * 0.05, -r.width() * 0.05, -r.height() * 0.05));
        letter = QStringLiteral("X");
        break;
    case TypeFamily::Macro:
        p->drawPolygon(QPolygonF({QPointF(m.x(), r.top()), QPointF(r.right(), m.y()), QPointF(m.x(), r.bottom()), QPointF(r.left(), m.y())}));
        letter = QStringLiteral("M");
        fg = Qt::black;
        break;
    case TypeFamily::Archive:
        p->drawRoundedRect(r, r.width() * 0.3, r.height() * 0.3);
        letter = QStringLiteral("Z");
        break;
    case TypeFamily::DoubleExtension:
        p->drawPolygon(QPolygonF({QPointF(m.x(), r.top()), QPointF(r.right(), r.bottom()), QPointF(r.left(), r.bottom())}));
        letter = QStringLiteral("2");
        break;
    case TypeFamily::OtherAttachment: {
        QPolygonF hex;
        for (int i = 0; i < 6; ++i) {
            const double a = M_PI / 3 * i;
            hex << QPointF(m.x() + r.width() / 2 * std::cos(a), m.y() + r.height() / 2 * std::sin(a));
        }
        p->drawPolygon(hex);
        letter = QStringLiteral("A");
        fg = Qt::black;
        break;
    }
    default:
        p->setBrush(Qt::white);
        p->drawEllipse(r);
        letter = QStringLiteral("-");
        fg = Qt::black;
        break;
    }
    const QRectF tr = f == TypeFamily::DoubleExtension ? r.adjusted(0, r.height() * 0.25, 0, 0) : r;
    glyphLetter(p, tr, letter, fg);
    p->restore();
}

void drawRecallGlyph(QPainter* p, const QRectF& r, RecallKind k) {
    p->save();
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(Qt::black, 0));
    const double w = r.width(), h = r.height();
    switch (k) {
    case RecallKind::Suspended:
        p->setBrush(kOkabeIto[1]);
        p->drawRoundedRect(r, w * 0.2, h * 0.2);
        p->setBrush(Qt::black);
        p->drawRect(QRectF(r.left() + w * 0.28, r.top() + h * 0.22, w * 0.14, h * 0.56));
        p->drawRect(QRectF(r.left() + w * 0.58, r.top() + h * 0.22, w * 0.14, h * 0.56));
        break;
    case RecallKind::Failed: {
        p->setBrush(kOkabeIto[5]);
        p->drawEllipse(r);
        QPen x(Qt::white, w * 0.14);
        x.setCapStyle(Qt::RoundCap);
        p->setPen(x);
        p->drawLine(QPointF(r.left() + w * 0.3, r.top() + h * 0.3), QPointF(r.right() - w * 0.3, r.bottom() - h * 0.3));
        p->drawLine(QPointF(r.right() - w * 0.3, r.top() + h * 0.3), QPointF(r.left() + w * 0.3, r.bottom() - h * 0.3));
        break;
    }
    case RecallKind::Deleted: {
        p->setBrush(QColor(0x33, 0x33, 0x33));
        p->drawRect(r);
        QPen x(Qt::white, w * 0.14);
        p->setPen(x);
        p->drawLine(QPointF(r.left() + w * 0.2, r.center().y()), QPointF(r.right() - w * 0.2, r.center().y()));
        break;
    }
    }
    p->restore();
}

QColor campaignColor(int campaignIndex) {
    // Vermillion first (the most common case is one campaign), then the rest of Okabe-Ito.
    static const int order[] = {5, 4, 2, 6, 0, 1, 7};
    return kOkabeIto[order[((campaignIndex % 7) + 7) % 7]];
}

} // namespace mt::orgmap
