#include "OrgMapView.h"

#include "OrgMapGlyphs.h"
#include "OrgMapLayout.h"
#include "model/AnalysisSelection.h"

#include <QDateTime>
#include <QTimeZone>
#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QGraphicsSceneHelpEvent>
#include <QHelpEvent>
#include <QKeyEvent>
#include <QPainter>
#include <QPainterPathStroker>
#include <QScrollBar>
#include <QStyleOptionGraphicsItem>
#include <QTimer>
#include <QToolTip>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace mt {

using namespace orgmap;

namespace {

constexpr double kAreaPerUser = 4000;  // scene units² per head: a 7-person team is about 170 x 170
constexpr double kAspect = 1.6;

QFont sceneFont(double px, bool bold = false) {
    QFont f;
    f.setPixelSize(std::max(1, static_cast<int>(std::lround(px))));
    f.setBold(bold);
    f.setHintingPreference(QFont::PreferNoHinting); // scaled freely by the view
    return f;
}

// Where the segment from the centre of r towards p leaves r (p itself when inside).
QPointF exitPoint(const QRectF& r, const QPointF& p) {
    const QPointF c = r.center();
    const QPointF d = p - c;
    double t = 1;
    if (d.x() > 0) t = std::min(t, (r.right() - c.x()) / d.x());
    if (d.x() < 0) t = std::min(t, (r.left() - c.x()) / d.x());
    if (d.y() > 0) t = std::min(t, (r.bottom() - c.y()) / d.y());
    if (d.y() < 0) t = std::min(t, (r.top() - c.y()) / d.y());
    return c + d * t;
}

QString countsText(int sent, int received) {
    return QStringLiteral("\u2191%1 \u2193%2").arg(sent).arg(received);
}

QString timeText(qint64 ms) {
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss 'UTC'"));
}

} // namespace

// ---------------------------------------------------------------------------------- tile

UnitTileItem::UnitTileItem(OrgMapView* map, int unit, const QRectF& rect, double header)
    : m_map(map), m_unit(unit), m_rect(rect), m_header(header) {
    setFlag(ItemUsesExtendedStyleOption, false);
}

void UnitTileItem::setGeometry(const QRectF& rect, double header) {
    prepareGeometryChange();
    m_rect = rect;
    m_header = header;
}

QString UnitTileItem::title() const {
    const OrgUnit& u = m_map->m_data->units()[m_unit];
    QString t = u.name;
    if (!u.children.empty() && m_map->isCollapsed(m_unit)) t += QStringLiteral(" [+%1]").arg(u.children.size());
    return t + QStringLiteral(" (%1)").arg(u.subtreeHeadCount);
}

QString UnitTileItem::badgeText() const {
    const UnitCounts& c = m_map->m_counts[m_unit];
    return c.total() ? countsText(c.sent, c.received) : QString();
}

QStringList UnitTileItem::userLines() const {
    QStringList out;
    const auto& users = m_map->m_data->users();
    for (int u : m_map->topUsers(m_unit, 50)) {
        const UserCounts& c = m_map->m_userCounts[u];
        QString who = users[u].email.section(QLatin1Char('@'), 0, 0);
        out << who + QStringLiteral("  ") + countsText(c.sent, c.received);
    }
    return out;
}

void UnitTileItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
    const OrgMapData& data = *m_map->m_data;
    const OrgUnit& u = data.units()[m_unit];
    const UnitCounts& c = m_map->m_counts[m_unit];
    const bool collapsed = !u.children.empty() && m_map->isCollapsed(m_unit);
    const bool leaf = u.children.empty() || collapsed;
    const int level = heatLevel(c.total());
    const double lod = option->levelOfDetailFromTransform(p->worldTransform());

    static const QColor depthColor[] = {QColor(0xDD, 0xE3, 0xEA), QColor(0xEE, 0xF1, 0xF5), QColor(0xFA, 0xFB, 0xFC)};
    QColor fill = depthColor[std::min(u.depth, 2)];
    if (leaf && level > 0) {
        const QColor h = heatColor(level);
        const double a = 0.30;
        fill = QColor::fromRgbF(fill.redF() * (1 - a) + h.redF() * a, fill.greenF() * (1 - a) + h.greenF() * a,
                                fill.blueF() * (1 - a) + h.blueF() * a);
    }
    const double screenW = m_rect.width() * lod, screenH = m_rect.height() * lod;
    if (screenW < 2 && screenH < 2 && u.parent >= 0) return; // a speck inside its parent's fill
    p->setRenderHint(QPainter::Antialiasing, false); // axis-aligned: crisp and cheaper without
    p->setPen(screenW < 4 ? Qt::NoPen : QPen(QColor(0x70, 0x78, 0x80), 0));
    p->setBrush(fill);
    p->drawRect(m_rect);

    // Outlines: selection (thick, dashed inside), keyboard focus (dotted), playback glow.
    auto outline = [&](const QColor& col, double px, Qt::PenStyle style, double insetPx) {
        QPen pen(col, px);
        pen.setCosmetic(true);
        pen.setStyle(style);
        p->setPen(pen);
        p->setBrush(Qt::NoBrush);
        const double in = insetPx / std::max(lod, 1e-9);
        p->drawRect(m_rect.adjusted(in, in, -in, -in));
    };
    if (c.recent > 0) outline(typeColor(TypeFamily::Script), 4, Qt::SolidLine, 2);
    if (m_map->m_selectedUnit == m_unit) {
        outline(Qt::black, 3, Qt::SolidLine, 1.5);
        outline(Qt::white, 1.5, Qt::DashLine, 4);
    }
    if (m_map->m_current == m_unit && m_map->hasFocus()) outline(QColor(0, 0x72, 0xB2), 2, Qt::DotLine, 6);

    const double fontPx = m_header * 0.56;
    if (screenW < 12 || screenH < 8 || fontPx * lod < 6.5) return; // text would be unreadable

    // Header: title on the left; heat meter, count pill and type glyphs on the right.
    const double pad = m_header * 0.2;
    const QRectF header(m_rect.left() + pad, m_rect.top(), m_rect.width() - 2 * pad, m_header);
    double right = header.right();
    p->setRenderHint(QPainter::Antialiasing);
    // The volume badge: a pill with the numbers and a heat meter, right-aligned in a band.
    // Parents carry it in their header; teams in the row under their title (when there is
    // one), so their names are not cut short.
    const double g = fontPx * 1.15;
    const bool badgeInBody = leaf && m_rect.height() - m_header - pad >= g;
    auto drawBadge = [&](double cy) -> double { // returns the left edge it used
        const QRectF meter(header.right() - fontPx * 1.3, cy - fontPx * 0.45, fontPx * 1.3, fontPx * 0.9);
        const QFont bf = sceneFont(fontPx * 0.9, true);
        const QString badge = badgeText();
        const double bw = QFontMetricsF(bf).horizontalAdvance(badge) + fontPx * 0.7;
        const QRectF pill(meter.left() - pad - bw, cy - fontPx * 0.62, bw, fontPx * 1.24);
        if (pill.left() < header.left()) return header.right();
        drawHeatMeter(p, meter, level);
        p->setPen(QPen(Qt::black, 0));
        p->setBrush(heatColor(level));
        p->drawRoundedRect(pill, pill.height() / 2, pill.height() / 2);
        p->setFont(bf);
        p->setPen(heatTextColor(level));
        p->drawText(pill, Qt::AlignCenter, badge);
        return pill.left() - pad;
    };
    if (c.total() > 0 && !badgeInBody) {
        const double left = drawBadge(header.center().y());
        if (left > header.left() + fontPx * 2) {
            right = left;
            if (!leaf) {
                // Types of a parent in its header, when there is room.
                for (int t = kTypeFamilyCount - 1; t >= 0; --t) {
                    if (!(c.types & (1u << t)) || t == static_cast<int>(TypeFamily::NoAttachment)) continue;
                    if (right - g < header.left() + fontPx * 5) break;
                    drawTypeGlyph(p, QRectF(right - g, header.center().y() - g / 2, g, g), static_cast<TypeFamily>(t));
                    right -= g + pad * 0.6;
                }
            }
        }
    }
    const QFont tf = sceneFont(fontPx, u.depth == 0 || !leaf);
    p->setFont(tf);
    p->setPen(Qt::black);
    const QRectF titleRect(header.left(), header.top(), std::max(0.0, right - header.left()), header.height());
    p->drawText(titleRect, Qt::AlignVCenter | Qt::AlignLeft, QFontMetricsF(tf).elidedText(title(), Qt::ElideRight, titleRect.width()));

    if (!leaf) return;
    // Body: type glyphs, recall badges and the volume badge, then the top users.
    double y = m_rect.top() + m_header;
    const double bottom = m_rect.bottom() - pad;
    if (y + g <= bottom && (c.types || !m_map->recallCounts(m_unit).isEmpty())) {
        double x = m_rect.left() + pad;
        const double limit = badgeInBody && c.total() > 0 ? drawBadge(y + g / 2) : m_rect.right() - pad;
        for (int t = 0; t < kTypeFamilyCount; ++t) {
            if (!(c.types & (1u << t)) || t == static_cast<int>(TypeFamily::NoAttachment)) continue;
            if (x + g > limit) break;
            drawTypeGlyph(p, QRectF(x, y, g, g), static_cast<TypeFamily>(t));
            x += g + pad * 0.6;
        }
        const RecallCounts rc = m_map->recallCounts(m_unit);
        const QFont nf = sceneFont(fontPx * 0.85, true);
        p->setFont(nf);
        auto recall = [&](int n, RecallKind k) {
            if (n <= 0) return;
            const QString num = QString::number(n);
            const double w = g + QFontMetricsF(nf).horizontalAdvance(num) + pad;
            if (x + w > limit) return;
            drawRecallGlyph(p, QRectF(x, y, g, g), k);
            p->setPen(Qt::black);
            p->drawText(QRectF(x + g + pad * 0.3, y, w, g), Qt::AlignVCenter | Qt::AlignLeft, num);
            x += w + pad;
        };
        x += pad;
        recall(rc.suspended, RecallKind::Suspended);
        recall(rc.failed, RecallKind::Failed);
        recall(rc.deleted, RecallKind::Deleted);
        y += g + pad * 0.5;
    }
    const double lineH = fontPx * 1.2;
    const QFont uf = sceneFont(fontPx * 0.9);
    const QFont ufb = sceneFont(fontPx * 0.9, true);
    const QFontMetricsF fm(uf);
    const int fits = static_cast<int>((bottom - y) / lineH);
    if (fits <= 0 || fontPx * 0.9 * lod < 6) return;
    const std::vector<int> top = m_map->topUsers(m_unit, fits);
    const auto& users = data.users();
    const double w = m_rect.width() - 2 * pad;
    for (int i = 0; i < static_cast<int>(top.size()); ++i) {
        const int user = top[i];
        const UserCounts& uc = m_map->m_userCounts[user];
        const QString counts = countsText(uc.sent, uc.received);
        const double cw = fm.horizontalAdvance(counts);
        const QRectF line(m_rect.left() + pad, y + i * lineH, w, lineH);
        p->setFont(user == m_map->m_selectedUser ? ufb : uf);
        p->setPen(Qt::black);
        if (i == fits - 1 && static_cast<int>(top.size()) > fits) {
            p->drawText(line, Qt::AlignVCenter | Qt::AlignLeft, QStringLiteral("\u2026"));
            break;
        }
        p->drawText(line, Qt::AlignVCenter | Qt::AlignRight, counts);
        const QString who = users[user].email.section(QLatin1Char('@'), 0, 0);
        p->drawText(QRectF(line.left(), line.top(), std::max(0.0, w - cw - pad), lineH), Qt::AlignVCenter | Qt::AlignLeft,
                    fm.elidedText(who, Qt::ElideMiddle, std::max(0.0, w - cw - pad)));
    }
}

// ---------------------------------------------------------------------------------- link

UnitLinkItem::UnitLinkItem(OrgMapView* map, const UnitLink& link, int rank, const QPointF& from, const QPointF& to, double widthPx,
                           const QColor& color)
    : m_map(map), m_link(link), m_rank(rank), m_from(from), m_to(to), m_widthPx(widthPx), m_color(color) {
    // A gentle curve to the left of the direction of travel, so A->B and B->A do not overlap.
    const QPointF d = to - from;
    const QPointF normal(-d.y(), d.x());
    const QPointF ctrl = (from + to) / 2 + normal * 0.12;
    m_path.moveTo(from);
    m_path.quadTo(ctrl, to);
    setZValue(10);
    setAcceptHoverEvents(true);
}

QRectF UnitLinkItem::boundingRect() const {
    const double pad = std::max(10.0, QLineF(m_from, m_to).length() * 0.05);
    return m_path.boundingRect().adjusted(-pad, -pad, pad, pad);
}

QPainterPath UnitLinkItem::shape() const {
    QPainterPathStroker s;
    s.setWidth(std::max(6.0, QLineF(m_from, m_to).length() * 0.02));
    return s.createStroke(m_path);
}

void UnitLinkItem::setDimmed(bool dimmed) {
    if (dimmed == m_dimmed) return;
    m_dimmed = dimmed;
    setZValue(dimmed ? 9 : 10);
    update();
}

void UnitLinkItem::paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget*) {
    if (m_rank >= m_map->linkBudget(option->levelOfDetailFromTransform(p->worldTransform())) && !(m_map->selectedUnit() >= 0 && !m_dimmed))
        return; // level of detail: the smaller volumes when zoomed out (a selected unit's links always)
    QColor c = m_color;
    c.setAlpha(m_dimmed ? 45 : 170);
    // The curve up to t = 0.97: the arrow head ends on the destination's edge.
    // Drawn as a filled ribbon in device pixels: a wide antialiased pen on a curve costs the
    // raster engine several times more, and the map draws hundreds of links per frame.
    const double tEnd = 0.97;
    const QTransform t = p->worldTransform();
    const QPointF a = t.map(m_from), ctrl = t.map(m_path.elementAt(1)), b = t.map(m_to);
    constexpr int kSteps = 12;
    QPointF pts[kSteps + 1];
    for (int i = 0; i <= kSteps; ++i) {
        const double u = tEnd * i / kSteps;
        pts[i] = (1 - u) * (1 - u) * a + 2 * (1 - u) * u * ctrl + u * u * b;
    }
    const double half = m_widthPx / 2;
    QPolygonF ribbon;
    ribbon.reserve(2 * kSteps + 2);
    QPointF normals[kSteps + 1];
    for (int i = 0; i <= kSteps; ++i) {
        const QPointF d = pts[std::min(i + 1, kSteps)] - pts[std::max(i - 1, 0)];
        const double len = std::hypot(d.x(), d.y());
        normals[i] = len > 1e-9 ? QPointF(-d.y() / len, d.x() / len) : QPointF(0, 0);
    }
    for (int i = 0; i <= kSteps; ++i) ribbon << pts[i] + normals[i] * half;
    for (int i = kSteps; i >= 0; --i) ribbon << pts[i] - normals[i] * half;
    p->save();
    p->resetTransform();
    // Antialiased links cost most of a frame; while the map moves they are drawn without, and
    // redrawn smooth once it rests.
    p->setRenderHint(QPainter::Antialiasing, !m_map->isMoving());
    p->setPen(Qt::NoPen);
    p->setBrush(c);
    // Zoomed far in, a link can run hundreds of thousands of pixels past the viewport: clip it
    // first (the rasteriser is slow with huge coordinates).
    const QRectF device = QRectF(p->device() ? QRectF(0, 0, p->device()->width(), p->device()->height()) : QRectF()).adjusted(-20, -20, 20, 20);
    if (!device.isEmpty() && !device.contains(ribbon.boundingRect())) ribbon = ribbon.intersected(QPolygonF(device));
    if (!ribbon.isEmpty()) p->drawPolygon(ribbon);
    // The arrow head, also in device pixels, so it keeps its size at any zoom.
    QPointF dir = pts[kSteps] - pts[kSteps - 1];
    const double len = std::hypot(dir.x(), dir.y());
    if (len > 1e-9) {
        dir /= len;
        const QPointF n(-dir.y(), dir.x());
        const QPointF tip = pts[kSteps];
        const double size = 6 + m_widthPx * 1.2;
        p->setPen(QPen(QColor(0, 0, 0, m_dimmed ? 45 : 255), 1));
        QColor head = m_color;
        if (m_dimmed) head.setAlpha(45);
        p->setBrush(head);
        p->drawPolygon(QPolygonF({tip + dir * size * 0.4, tip - dir * size * 0.8 + n * size * 0.55, tip - dir * size * 0.8 - n * size * 0.55}));
    }
    p->restore();
}

// ---------------------------------------------------------------------------------- view

OrgMapView::OrgMapView(QWidget* parent) : QGraphicsView(parent), m_scene(new QGraphicsScene(this)), m_restTimer(new QTimer(this)) {
    m_restTimer->setSingleShot(true);
    m_restTimer->setInterval(150);
    connect(m_restTimer, &QTimer::timeout, this, [this] {
        m_moving = false;
        viewport()->update();
    });
    setScene(m_scene);
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing);
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setViewportUpdateMode(QGraphicsView::FullViewportUpdate);
    setCacheMode(QGraphicsView::CacheNone); // no bitmaps at a fixed pixel ratio
    // Every item sets the painter state it uses (links save and restore their own changes).
    setOptimizationFlags(QGraphicsView::DontSavePainterState | QGraphicsView::DontAdjustForAntialiasing);
    setBackgroundBrush(QColor(0xF7, 0xF7, 0xF7));
    setFocusPolicy(Qt::StrongFocus);
    m_scene->setItemIndexMethod(QGraphicsScene::BspTreeIndex);
}

OrgMapView::~OrgMapView() = default;

void OrgMapView::setData(std::shared_ptr<const OrgMapData> data) {
    m_data = std::move(data);
    m_current = m_selectedUnit = m_selectedUser = -1;
    rebuild();
    fitAll();
}

void OrgMapView::setSelection(AnalysisSelection* selection) {
    if (m_selection) disconnect(m_selection, nullptr, this, nullptr);
    m_selection = selection;
    if (m_selection)
        connect(m_selection, &AnalysisSelection::changed, this, [this](AnalysisSelection::Facets f) { onSelectionChanged(int(f)); });
    onSelectionChanged(AnalysisSelection::Unit | AnalysisSelection::User | AnalysisSelection::Campaign | AnalysisSelection::TimeRange);
}

void OrgMapView::setTimeCursor(qint64 ms) {
    if (ms == m_cursor) return;
    m_cursor = ms;
    refresh();
}

void OrgMapView::setRecallCounts(const QHash<qint64, RecallCounts>& counts) {
    m_recall = counts;
    viewport()->update();
}

RecallCounts OrgMapView::recallCounts(int unit) const {
    if (!m_data || unit < 0) return {};
    return m_recall.value(m_data->units()[unit].id);
}

OrgMapFilter OrgMapView::filter() const {
    OrgMapFilter f;
    if (m_selection) {
        f.campaign = m_selection->campaignId();
        if (m_selection->hasTimeRange()) {
            f.from = m_selection->timeFrom();
            f.to = m_selection->timeTo();
        }
    }
    f.upTo = m_cursor;
    if (m_cursor != std::numeric_limits<qint64>::max() && m_recentWindow > 0) f.recentFrom = std::max<qint64>(1, m_cursor - m_recentWindow);
    return f;
}

void OrgMapView::rebuild() {
    m_scene->clear();
    m_tiles.clear();
    m_links.clear();
    m_counts.clear();
    m_userCounts.clear();
    m_unitUsers.clear();
    if (!m_data || m_data->units().empty()) {
        m_scene->setSceneRect(QRectF(0, 0, 800, 500));
        viewport()->update();
        emit countsChanged();
        return;
    }
    const auto& units = m_data->units();
    m_collapsed.assign(units.size(), 0);
    m_unitUsers.assign(units.size(), {});
    for (std::size_t i = 0; i < m_data->users().size(); ++i) m_unitUsers[m_data->users()[i].unit].push_back(static_cast<int>(i));

    for (int i = 0; i < static_cast<int>(units.size()); ++i) {
        auto* tile = new UnitTileItem(this, i, QRectF(), 0);
        tile->setZValue(units[i].depth); // children draw over their parents
        m_scene->addItem(tile);
        m_tiles.push_back(tile);
    }
    layoutTiles();
    refresh();
}

void OrgMapView::layoutTiles() {
    if (!m_data || m_tiles.isEmpty()) return;
    const auto& units = m_data->units();
    std::vector<TreemapNode> nodes(units.size());
    for (std::size_t i = 0; i < units.size(); ++i) nodes[i] = {units[i].parent, double(units[i].headCount)};
    int totalHeads = 0;
    for (const OrgUnit& u : units) totalHeads += u.headCount;
    // The scene takes the viewport's shape, so the map fills it when fitted.
    const QSize vp = viewport()->size();
    m_layoutAspect = vp.width() > 50 && vp.height() > 50 ? std::clamp(double(vp.width()) / vp.height(), 0.5, 3.0) : kAspect;
    const double area = std::max(1.0, double(totalHeads)) * kAreaPerUser;
    const double w = std::max(600.0, std::sqrt(area * m_layoutAspect)), h = std::max(400.0, w / m_layoutAspect);
    const QRectF bounds(0, 0, w, h);
    TreemapOptions opt;
    const std::vector<QRectF> rects = layoutTreemap(nodes, bounds, opt);
    for (int i = 0; i < static_cast<int>(units.size()); ++i) m_tiles[i]->setGeometry(rects[i], treemapHeaderHeight(rects[i], opt));
    const double margin = std::min(w, h) * 0.01;
    m_scene->setSceneRect(bounds.adjusted(-margin, -margin, margin, margin));
}

void OrgMapView::resizeEvent(QResizeEvent* e) {
    QGraphicsView::resizeEvent(e);
    const QSize vp = viewport()->size();
    if (!m_data || m_tiles.isEmpty() || vp.width() <= 50 || vp.height() <= 50) return;
    const double aspect = std::clamp(double(vp.width()) / vp.height(), 0.5, 3.0);
    if (std::abs(aspect / m_layoutAspect - 1) < 0.12) return;
    layoutTiles();
    rebuildLinks();
    fitAll();
}

void OrgMapView::refresh() {
    if (!m_data) {
        viewport()->update();
        return;
    }
    const OrgMapFilter f = filter();
    m_counts = m_data->unitCounts(f, true);
    m_userCounts = m_data->allUserCounts(f);
    rebuildLinks();
    viewport()->update();
    emit countsChanged();
}

int OrgMapView::visibleAncestor(int unit) const {
    int v = unit;
    for (int p = unit; p >= 0; p = m_data->units()[p].parent)
        if (m_collapsed[p]) v = p;
    return v;
}

bool OrgMapView::isVisibleUnit(int unit) const {
    if (!m_data || unit < 0) return false;
    for (int p = m_data->units()[unit].parent; p >= 0; p = m_data->units()[p].parent)
        if (m_collapsed[p]) return false;
    return true;
}

void OrgMapView::rebuildLinks() {
    for (UnitLinkItem* l : m_links) {
        m_scene->removeItem(l);
        delete l;
    }
    m_links.clear();
    m_linkTotal = 0;
    if (!m_data || m_tiles.isEmpty()) return;
    // Links end at the tiles that are visible: a collapsed unit stands for its subtree.
    std::vector<UnitLink> links = m_data->links(filter());
    const bool anyCollapsed = std::find(m_collapsed.begin(), m_collapsed.end(), 1) != m_collapsed.end();
    if (anyCollapsed) {
        std::unordered_map<std::uint64_t, std::size_t> merged;
        std::vector<UnitLink> out;
        for (UnitLink l : links) {
            l.from = visibleAncestor(l.from);
            l.to = visibleAncestor(l.to);
            if (l.from == l.to) continue;
            const std::uint64_t key = std::uint64_t(l.from) << 40 ^ std::uint64_t(l.to) << 16 ^ std::uint64_t(l.campaign & 0xFFFF);
            auto [it, fresh] = merged.try_emplace(key, out.size());
            if (fresh) {
                out.push_back(l);
            } else {
                UnitLink& m = out[it->second];
                m.count += l.count;
                m.firstTime = std::min(m.firstTime, l.firstTime);
                m.lastTime = std::max(m.lastTime, l.lastTime);
            }
        }
        links.swap(out);
    } else {
        links.erase(std::remove_if(links.begin(), links.end(), [](const UnitLink& l) { return l.from == l.to; }), links.end());
    }
    m_linkTotal = static_cast<int>(links.size());
    auto larger = [](const UnitLink& a, const UnitLink& b) {
        if (a.count != b.count) return a.count > b.count;
        return std::tie(a.from, a.to, a.campaign) < std::tie(b.from, b.to, b.campaign);
    };
    if (static_cast<int>(links.size()) > m_maxLinks) {
        std::nth_element(links.begin(), links.begin() + m_maxLinks, links.end(), larger);
        links.resize(m_maxLinks);
    }
    std::sort(links.begin(), links.end(), larger);
    const auto& campaigns = m_data->campaigns();
    for (const UnitLink& l : links) {
        int ci = 0;
        for (int k = 0; k < campaigns.size(); ++k)
            if (campaigns[k].id == l.campaign) ci = k;
        const double width = std::min(9.0, 1.0 + 1.3 * std::log2(1.0 + l.count));
        // From the source's edge to the destination's edge (a nested pair: centre to edge), so
        // the tiles' names and user lists stay readable under the arrows.
        const QRectF fr = m_tiles[l.from]->rect(), tr = m_tiles[l.to]->rect();
        const bool nested = fr.contains(tr) || tr.contains(fr);
        const QPointF a = nested ? fr.center() : exitPoint(fr, tr.center());
        const QPointF b = nested ? tr.center() : exitPoint(tr, fr.center());
        auto* item = new UnitLinkItem(this, l, static_cast<int>(m_links.size()), a, b, width, campaignColor(ci));
        QString label = ci < campaigns.size() ? campaigns[ci].label : QString();
        item->setToolTip(QStringLiteral("%1 \u2192 %2\n%3 flagged message%4 (recipients)\ncampaign %5 %6\n%7 \u2013 %8")
                             .arg(m_data->units()[l.from].path, m_data->units()[l.to].path)
                             .arg(l.count)
                             .arg(l.count == 1 ? "" : "s")
                             .arg(l.campaign)
                             .arg(label, timeText(l.firstTime), timeText(l.lastTime)));
        m_scene->addItem(item);
        m_links.push_back(item);
    }
    dimLinks();
}

int OrgMapView::linkBudget(double lod) const {
    const QRectF sr = m_scene->sceneRect();
    if (sr.isEmpty()) return m_maxLinks;
    const double fit = std::min(viewport()->width() / sr.width(), viewport()->height() / sr.height());
    const double zoom = fit > 0 ? lod / fit : 1;
    return static_cast<int>(std::min<double>(m_maxLinks, m_linkBudgetAtFit * std::max(1.0, zoom)));
}

void OrgMapView::dimLinks() {
    for (UnitLinkItem* l : m_links) {
        const bool touches = m_selectedUnit < 0 || m_data->contains(m_selectedUnit, l->link().from) || m_data->contains(m_selectedUnit, l->link().to);
        l->setDimmed(!touches);
    }
}

UnitTileItem* OrgMapView::tileForUnit(int unit) const {
    return unit >= 0 && unit < m_tiles.size() ? m_tiles[unit] : nullptr;
}

std::vector<int> OrgMapView::topUsers(int unit, int n) const {
    std::vector<int> out;
    if (!m_data || unit < 0 || m_userCounts.empty()) return out;
    std::vector<int> stack{unit};
    const bool subtree = m_collapsed[unit];
    while (!stack.empty()) {
        const int u = stack.back();
        stack.pop_back();
        for (int user : m_unitUsers[u])
            if (m_userCounts[user].total() > 0) out.push_back(user);
        if (subtree)
            for (int c : m_data->units()[u].children) stack.push_back(c);
    }
    auto better = [&](int a, int b) {
        const UserCounts &x = m_userCounts[a], &y = m_userCounts[b];
        if (x.total() != y.total()) return x.total() > y.total();
        return m_data->users()[a].email < m_data->users()[b].email;
    };
    if (static_cast<int>(out.size()) > n) {
        std::partial_sort(out.begin(), out.begin() + n, out.end(), better);
        out.resize(n);
    } else {
        std::sort(out.begin(), out.end(), better);
    }
    return out;
}

QString OrgMapView::unitTooltip(int unit) const {
    const OrgUnit& u = m_data->units()[unit];
    const UnitCounts& c = m_counts[unit];
    QString t = QStringLiteral("<b>%1</b><br>%2 people (%3 directly)").arg(u.path.toHtmlEscaped()).arg(u.subtreeHeadCount).arg(u.headCount);
    if (c.total()) {
        t += QStringLiteral("<br>flagged: %1 sent, %2 received (heat %3 of 5)").arg(c.sent).arg(c.received).arg(heatLevel(c.total()));
        QStringList types;
        for (int i = 0; i < kTypeFamilyCount; ++i)
            if (c.byType[i]) types << QStringLiteral("%1 %2").arg(typeFamilyName(static_cast<TypeFamily>(i))).arg(c.byType[i]);
        t += QStringLiteral("<br>types: ") + types.join(QStringLiteral(", "));
    } else {
        t += QStringLiteral("<br>no flagged mail");
    }
    const RecallCounts r = recallCounts(unit);
    if (!r.isEmpty()) t += QStringLiteral("<br>recall: %1 suspended, %2 read or not recalled, %3 deleted").arg(r.suspended).arg(r.failed).arg(r.deleted);
    const std::vector<int> top = topUsers(unit, 5);
    for (int user : top)
        t += QStringLiteral("<br>&nbsp;&nbsp;%1: %2 sent, %3 received")
                 .arg(m_data->users()[user].email.toHtmlEscaped())
                 .arg(m_userCounts[user].sent)
                 .arg(m_userCounts[user].received);
    return t;
}

QString OrgMapView::note() const {
    if (!m_data) return tr("No case open");
    if (m_data->units().empty()) return tr("No users in this case \u2014 import an org chart or logs");
    if (m_data->messages().empty()) return tr("No flagged mail \u2014 run detection");
    if (m_counts.empty()) return {};
    int total = 0;
    for (const OrgUnit& u : m_data->units())
        if (u.parent < 0) total += m_counts[&u - m_data->units().data()].total();
    if (!total) return tr("No flagged mail under the current filter");
    return {};
}

void OrgMapView::fitAll() {
    if (m_scene->sceneRect().isEmpty()) return;
    fitInView(m_scene->sceneRect(), Qt::KeepAspectRatio);
}

void OrgMapView::markMoving() {
    m_moving = true;
    m_restTimer->start();
}

void OrgMapView::scrollContentsBy(int dx, int dy) {
    markMoving();
    QGraphicsView::scrollContentsBy(dx, dy);
}

void OrgMapView::zoomBy(double factor) {
    markMoving();
    const double current = transform().m11();
    // Between a quarter of the fitted scale and 40x the scene's own scale.
    const QRectF sr = m_scene->sceneRect();
    const double fit = sr.isEmpty() ? 1 : std::min(viewport()->width() / sr.width(), viewport()->height() / sr.height());
    const double target = std::clamp(current * factor, fit * 0.25, std::max(fit * 0.25, 40.0));
    scale(target / current, target / current);
}

void OrgMapView::setCollapsed(int unit, bool collapsed) {
    if (!m_data || unit < 0 || unit >= static_cast<int>(m_collapsed.size()) || m_data->units()[unit].children.empty()) return;
    if (bool(m_collapsed[unit]) == collapsed) return;
    m_collapsed[unit] = collapsed;
    // Hide or show the descendants (respecting collapsed units further down).
    std::vector<std::pair<int, bool>> stack;
    for (int c : m_data->units()[unit].children) stack.push_back({c, !collapsed});
    while (!stack.empty()) {
        auto [u, show] = stack.back();
        stack.pop_back();
        m_tiles[u]->setVisible(show);
        for (int c : m_data->units()[u].children) stack.push_back({c, show && !m_collapsed[u]});
    }
    if (m_current >= 0 && !isVisibleUnit(m_current)) setCurrentUnit(unit);
    rebuildLinks();
    viewport()->update();
}

bool OrgMapView::isCollapsed(int unit) const {
    return unit >= 0 && unit < static_cast<int>(m_collapsed.size()) && m_collapsed[unit];
}

void OrgMapView::setCurrentUnit(int unit) {
    if (unit == m_current) return;
    m_current = unit;
    if (unit >= 0) ensureVisible(m_tiles[unit]->rect(), 20, 20);
    viewport()->update();
    emit currentUnitChanged(unit);
}

void OrgMapView::selectUnit(int unit, bool centre) {
    if (!m_data) return;
    if (unit >= 0) {
        // Expand collapsed ancestors so the tile can be seen.
        for (int p = m_data->units()[unit].parent; p >= 0; p = m_data->units()[p].parent)
            if (m_collapsed[p]) setCollapsed(p, false);
    }
    const bool changed = unit != m_selectedUnit;
    m_selectedUnit = unit;
    if (unit >= 0) {
        m_current = unit;
        if (centre) centerOn(m_tiles[unit]);
    }
    if (m_selection && !m_updatingSelection) {
        m_updatingSelection = true;
        if (unit >= 0) m_selection->setUnit(m_data->units()[unit].id, m_data->units()[unit].path);
        else m_selection->setUnit(0, {});
        m_updatingSelection = false;
    }
    dimLinks();
    viewport()->update();
    if (changed) emit selectedUnitChanged(unit);
}

void OrgMapView::onSelectionChanged(int facets) {
    if (!m_selection || !m_data) return;
    if (facets & (AnalysisSelection::Campaign | AnalysisSelection::TimeRange)) refresh();
    if (m_updatingSelection) return;
    m_updatingSelection = true;
    if (facets & AnalysisSelection::Unit) {
        const int unit = m_selection->unitId() ? m_data->unitIndex(m_selection->unitId()) : -1;
        selectUnit(unit, unit >= 0);
    }
    if (facets & AnalysisSelection::User) {
        m_selectedUser = m_selection->user().isEmpty() ? -1 : m_data->userIndex(m_selection->user());
        if (m_selectedUser >= 0) {
            const int unit = m_data->users()[m_selectedUser].unit;
            if (m_current != unit) setCurrentUnit(unit);
            centerOn(m_tiles[unit]);
        }
        viewport()->update();
    }
    m_updatingSelection = false;
}

bool OrgMapView::search(const QString& text) {
    const QString q = text.trimmed().toLower();
    if (!m_data || q.isEmpty()) return false;
    const auto& users = m_data->users();
    const auto& units = m_data->units();
    auto selectUser = [&](int i) {
        selectUnit(users[i].unit, true);
        m_selectedUser = i;
        if (m_selection) m_selection->setUser(users[i].email);
        viewport()->update();
        return true;
    };
    for (int pass = 0; pass < 2; ++pass) {
        auto match = [&](const QString& s) { return pass == 0 ? s.toLower() == q : s.toLower().contains(q); };
        for (int i = 0; i < static_cast<int>(users.size()); ++i)
            if (match(users[i].email) || (!users[i].name.isEmpty() && match(users[i].name))) return selectUser(i);
        for (int i = 0; i < static_cast<int>(units.size()); ++i)
            if (match(units[i].path) || match(units[i].name)) {
                selectUnit(i, true);
                return true;
            }
    }
    return false;
}

int OrgMapView::unitAt(const QPoint& viewPos) const {
    for (QGraphicsItem* it : items(viewPos)) // topmost first
        if (auto* tile = dynamic_cast<UnitTileItem*>(it)) return tile->unit();
    return -1;
}

void OrgMapView::moveCurrent(int dx, int dy) {
    if (m_tiles.isEmpty()) return;
    if (m_current < 0) {
        setCurrentUnit(0);
        return;
    }
    const QPointF from = m_tiles[m_current]->rect().center();
    int best = -1;
    double bestScore = 1e300;
    for (int i = 0; i < m_tiles.size(); ++i) {
        if (i == m_current || !m_tiles[i]->isVisible() || m_data->contains(i, m_current) || m_data->contains(m_current, i)) continue;
        const QPointF d = m_tiles[i]->rect().center() - from;
        const double along = d.x() * dx + d.y() * dy;
        const double across = std::abs(d.x() * dy) + std::abs(d.y() * dx);
        if (along <= 0 || across > along * 2) continue;
        const double score = along + 2 * across;
        if (score < bestScore) {
            bestScore = score;
            best = i;
        }
    }
    if (best >= 0) setCurrentUnit(best);
}

void OrgMapView::stepCurrent(bool forward) {
    if (m_tiles.isEmpty()) return;
    // Preorder over the visible tiles.
    std::vector<int> order;
    std::vector<int> stack;
    const auto& units = m_data->units();
    for (int i = static_cast<int>(units.size()) - 1; i >= 0; --i)
        if (units[i].parent < 0) stack.push_back(i);
    // Roots in display order: the data keeps them sorted by name already in children lists;
    // for the top level, sort by tile position (top-left first).
    std::sort(stack.begin(), stack.end(), [&](int a, int b) {
        const QPointF pa = m_tiles[a]->rect().topLeft(), pb = m_tiles[b]->rect().topLeft();
        return std::make_pair(pa.y(), pa.x()) > std::make_pair(pb.y(), pb.x());
    });
    while (!stack.empty()) {
        const int u = stack.back();
        stack.pop_back();
        order.push_back(u);
        if (m_collapsed[u]) continue;
        for (auto it = units[u].children.rbegin(); it != units[u].children.rend(); ++it) stack.push_back(*it);
    }
    auto pos = std::find(order.begin(), order.end(), m_current);
    int idx = pos == order.end() ? -1 : static_cast<int>(pos - order.begin());
    const int n = static_cast<int>(order.size());
    idx = forward ? (idx + 1) % n : (idx <= 0 ? n - 1 : idx - 1);
    setCurrentUnit(order[idx]);
}

void OrgMapView::wheelEvent(QWheelEvent* e) {
    const double steps = e->angleDelta().y() / 120.0;
    if (steps == 0) {
        QGraphicsView::wheelEvent(e);
        return;
    }
    zoomBy(std::pow(1.2, steps));
    e->accept();
}

void OrgMapView::keyPressEvent(QKeyEvent* e) {
    const bool ctrl = e->modifiers() & Qt::ControlModifier;
    switch (e->key()) {
    case Qt::Key_F:
        if (!ctrl) { fitAll(); return; }
        break;
    case Qt::Key_0:
        if (ctrl) { fitAll(); return; }
        break;
    case Qt::Key_Equal:
    case Qt::Key_Plus:
        if (ctrl) { zoomBy(1.25); return; }
        if (m_current >= 0) { setCollapsed(m_current, false); return; }
        break;
    case Qt::Key_Minus:
        if (ctrl) { zoomBy(0.8); return; }
        if (m_current >= 0) {
            // Collapse the current unit, or the parent of a team.
            int u = m_current;
            if (m_data->units()[u].children.empty()) u = m_data->units()[u].parent;
            if (u >= 0) setCollapsed(u, true);
            return;
        }
        break;
    case Qt::Key_Left: moveCurrent(-1, 0); return;
    case Qt::Key_Right: moveCurrent(1, 0); return;
    case Qt::Key_Up: moveCurrent(0, -1); return;
    case Qt::Key_Down: moveCurrent(0, 1); return;
    case Qt::Key_Tab: stepCurrent(true); return;
    case Qt::Key_Backtab: stepCurrent(false); return;
    case Qt::Key_Return:
    case Qt::Key_Enter:
    case Qt::Key_Space:
        if (m_current >= 0) selectUnit(m_current, false);
        return;
    case Qt::Key_Escape:
        selectUnit(-1, false);
        return;
    default: break;
    }
    QGraphicsView::keyPressEvent(e);
}

void OrgMapView::mousePressEvent(QMouseEvent* e) {
    m_pressPos = e->pos();
    QGraphicsView::mousePressEvent(e);
}

void OrgMapView::mouseReleaseEvent(QMouseEvent* e) {
    QGraphicsView::mouseReleaseEvent(e);
    if (e->button() == Qt::LeftButton && (e->pos() - m_pressPos).manhattanLength() < 5) {
        const int unit = unitAt(e->pos());
        selectUnit(unit, false);
        if (unit >= 0) setCurrentUnit(unit);
    }
}

void OrgMapView::mouseDoubleClickEvent(QMouseEvent* e) {
    const int unit = unitAt(e->pos());
    if (unit >= 0 && m_data) {
        // Double click: collapse a parent, or expand a collapsed one; on a team, its parent.
        int u = unit;
        if (m_data->units()[u].children.empty()) u = m_data->units()[u].parent;
        if (u >= 0) setCollapsed(u, !isCollapsed(u));
        e->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(e);
}

bool OrgMapView::event(QEvent* e) {
    if (e->type() == QEvent::KeyPress && m_data && !m_tiles.isEmpty()) {
        auto* k = static_cast<QKeyEvent*>(e);
        if ((k->key() == Qt::Key_Tab || k->key() == Qt::Key_Backtab) && !(k->modifiers() & (Qt::ControlModifier | Qt::AltModifier))) {
            stepCurrent(k->key() == Qt::Key_Tab);
            return true;
        }
    }
    return QGraphicsView::event(e);
}

bool OrgMapView::viewportEvent(QEvent* e) {
    if (e->type() == QEvent::ToolTip && m_data) {
        auto* he = static_cast<QHelpEvent*>(e);
        for (QGraphicsItem* it : items(he->pos())) {
            if (auto* link = dynamic_cast<UnitLinkItem*>(it)) {
                QToolTip::showText(he->globalPos(), link->toolTip(), this);
                return true;
            }
            if (auto* tile = dynamic_cast<UnitTileItem*>(it)) {
                QToolTip::showText(he->globalPos(), unitTooltip(tile->unit()), this);
                return true;
            }
        }
        QToolTip::hideText();
        return true;
    }
    return QGraphicsView::viewportEvent(e);
}

void OrgMapView::drawForeground(QPainter* p, const QRectF&) {
    const QString text = note();
    if (text.isEmpty()) return;
    p->save();
    p->resetTransform();
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 1.3);
    f.setBold(true);
    p->setFont(f);
    const QFontMetricsF fm(f);
    const double w = fm.horizontalAdvance(text) + 32, h = fm.height() + 16;
    const bool empty = !m_data || m_data->units().empty();
    const QRectF box(viewport()->width() / 2.0 - w / 2, empty ? viewport()->height() / 2.0 - h / 2 : 12, w, h);
    p->setRenderHint(QPainter::Antialiasing);
    p->setPen(QPen(QColor(0x44, 0x44, 0x44), 1));
    p->setBrush(QColor(255, 255, 255, 235));
    p->drawRoundedRect(box, 6, 6);
    p->setPen(Qt::black);
    p->drawText(box, Qt::AlignCenter, text);
    p->restore();
}

} // namespace mt
