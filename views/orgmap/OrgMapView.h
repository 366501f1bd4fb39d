#pragma once
// The org map (issue 5): one tile per unit, nested by the unit tree in a squarified treemap
// sized by head count; badges for flagged volume (number + heat meter), attachment types and
// recall state; the top users on each leaf tile; links from source to destination unit
// (width by volume, colour by campaign, arrow head, tooltip). Zoom (wheel, Ctrl+= / Ctrl+-),
// pan (drag), fit (F, Ctrl+0), arrow keys / Tab between tiles, Enter selects, + / - expand
// and collapse. Writes and follows the shared AnalysisSelection. No SQL: it draws an
// OrgMapData.
#include "model/AnalysisSelection.h"
#include "model/orgmap/OrgMapData.h"

#include <QGraphicsItem>
#include <QGraphicsView>
#include <QHash>
#include <QPointer>
#include <memory>

namespace mt {


class OrgMapView;

// Recall outcomes per unit (recipients in the unit), from the recall workflow. Zero draws nothing.
struct RecallCounts {
    int suspended = 0, failed = 0, deleted = 0;
    bool isEmpty() const { return !suspended && !failed && !deleted; }
};

// One unit's tile. Geometry in scene units; painted with level of detail.
class UnitTileItem : public QGraphicsItem {
public:
    UnitTileItem(OrgMapView* map, int unit, const QRectF& rect, double header);
    QRectF boundingRect() const override { return m_rect; }
    void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
    int unit() const { return m_unit; }
    QRectF rect() const { return m_rect; }
    void setGeometry(const QRectF& rect, double header);
    // The texts the tile shows at full detail (for tests and accessibility).
    QString title() const;
    QString badgeText() const;     // "↑sent ↓received", empty when nothing is flagged
    QStringList userLines() const; // top users as drawn

private:
    OrgMapView* m_map;
    int m_unit;
    QRectF m_rect;
    double m_header;
};

// A link between two tiles.
class UnitLinkItem : public QGraphicsItem {
public:
    UnitLinkItem(OrgMapView* map, const UnitLink& link, int rank, const QPointF& from, const QPointF& to, double widthPx, const QColor& color);
    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* p, const QStyleOptionGraphicsItem* option, QWidget* widget) override;
    const UnitLink& link() const { return m_link; }
    int rank() const { return m_rank; } // 0: the largest volume
    // Faint when a unit is selected and the link does not touch it.
    void setDimmed(bool dimmed);
    bool isDimmed() const { return m_dimmed; }

private:
    OrgMapView* m_map;
    UnitLink m_link;
    int m_rank;
    QPointF m_from, m_to;
    QPainterPath m_path;
    double m_widthPx;
    QColor m_color;
    bool m_dimmed = false;
};

class OrgMapView : public QGraphicsView {
    Q_OBJECT
public:
    explicit OrgMapView(QWidget* parent = nullptr);
    ~OrgMapView() override;

    // The case to draw (null: no case). Rebuilds the scene and fits it to the view.
    void setData(std::shared_ptr<const OrgMapData> data);
    std::shared_ptr<const OrgMapData> data() const { return m_data; }
    // The shared selection: clicks write it, its changes filter and highlight the map.
    void setSelection(AnalysisSelection* selection);
    // Playback: only flagged messages sent at or before ms count (INT64_MAX: all). Messages
    // of the last recentWindow() before the cursor light their tiles up.
    void setTimeCursor(qint64 ms);
    qint64 timeCursor() const { return m_cursor; }
    void setRecentWindow(qint64 ms) { m_recentWindow = ms; refresh(); }
    qint64 recentWindow() const { return m_recentWindow; }
    // Recall outcomes by units.id.
    void setRecallCounts(const QHash<qint64, RecallCounts>& counts);
    RecallCounts recallCounts(int unit) const;
    // Links kept at most (the largest volumes first). Zoomed out to the whole map only the
    // largest linkBudgetAtFit() are painted; zooming in paints more (their number grows with
    // the zoom's area), up to all of them; the rest of a zoomed-in map is off screen anyway.
    void setMaxLinks(int n) { m_maxLinks = n; refresh(); }
    void setLinkBudgetAtFit(int n) { m_linkBudgetAtFit = n; viewport()->update(); }
    int linkBudget(double lod) const; // links painted at this level of detail

    // Finds a user (address or name) or a unit (name or path), case-insensitive, first exact
    // then substring: selects it (writing the selection), centres its tile. False: not found.
    bool search(const QString& text);
    void fitAll();
    void zoomBy(double factor);
    // True while the map is being panned or zoomed (and 150 ms after): links drawn fast.
    bool isMoving() const { return m_moving; }
    // Expand / collapse a unit with children: collapsed, its children are hidden and the
    // tile shows the totals and top users of the whole subtree.
    void setCollapsed(int unit, bool collapsed);
    bool isCollapsed(int unit) const;
    // The tile with keyboard focus (-1: none), and the selected unit (-1: none).
    int currentUnit() const { return m_current; }
    void setCurrentUnit(int unit);
    int selectedUnit() const { return m_selectedUnit; }

    // What is drawn (tests, tooltips, the panel).
    OrgMapFilter filter() const;
    const std::vector<UnitCounts>& shownCounts() const { return m_counts; } // subtree totals per unit
    const std::vector<UserCounts>& shownUserCounts() const { return m_userCounts; } // per user
    QList<UnitTileItem*> tiles() const { return m_tiles; }
    UnitTileItem* tileForUnit(int unit) const;
    QList<UnitLinkItem*> linkItems() const { return m_links; }
    int linkTotal() const { return m_linkTotal; } // links under the filter before the cap
    // The empty-state note drawn over the map ("" when none).
    QString note() const;
    // Top users of a unit shown on its tile (user indexes).
    std::vector<int> topUsers(int unit, int n) const;
    bool isVisibleUnit(int unit) const; // not inside a collapsed ancestor
    QString unitTooltip(int unit) const;

signals:
    void currentUnitChanged(int unit);
    void selectedUnitChanged(int unit);
    void countsChanged(); // filter, cursor or data changed

protected:
    void wheelEvent(QWheelEvent* e) override;
    void keyPressEvent(QKeyEvent* e) override;
    void mousePressEvent(QMouseEvent* e) override;
    void mouseReleaseEvent(QMouseEvent* e) override;
    void mouseDoubleClickEvent(QMouseEvent* e) override;
    void resizeEvent(QResizeEvent* e) override;
    void scrollContentsBy(int dx, int dy) override;
    void drawForeground(QPainter* p, const QRectF& rect) override;
    bool viewportEvent(QEvent* e) override;
    bool event(QEvent* e) override; // Tab walks the tiles instead of leaving the map

private:
    void rebuild();
    void refresh(); // counts, links, repaint
    void rebuildLinks();
    void layoutTiles(); // tile geometry for the viewport's aspect ratio
    void dimLinks();
    void markMoving();
    void onSelectionChanged(int facets);
    void selectUnit(int unit, bool centre);
    int unitAt(const QPoint& viewPos) const;
    void moveCurrent(int dx, int dy);
    void stepCurrent(bool forward);
    int visibleAncestor(int unit) const;

    std::shared_ptr<const OrgMapData> m_data;
    QGraphicsScene* m_scene;
    QPointer<AnalysisSelection> m_selection;
    QList<UnitTileItem*> m_tiles; // by unit index
    QList<UnitLinkItem*> m_links;
    std::vector<UnitCounts> m_counts;
    std::vector<UserCounts> m_userCounts;
    std::vector<std::vector<int>> m_unitUsers;
    std::vector<char> m_collapsed;
    QHash<qint64, RecallCounts> m_recall;
    qint64 m_cursor = std::numeric_limits<qint64>::max();
    qint64 m_recentWindow = 5 * 60 * 1000;
    int m_maxLinks = 400;
    int m_linkBudgetAtFit = 60;
    double m_layoutAspect = 0;
    bool m_moving = false;
    class QTimer* m_restTimer;
    int m_linkTotal = 0;
    int m_current = -1, m_selectedUnit = -1, m_selectedUser = -1;
    QPoint m_pressPos;
    bool m_updatingSelection = false;
    friend class UnitTileItem;
};

} // namespace mt
