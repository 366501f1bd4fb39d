#pragma once
// The campaign panel (issue 5): the campaigns of the case in a sortable table, and below it the
// selected campaign's summary (patient zero and when, generations, units reached) beside its
// propagation tree. It shares the window's AnalysisSelection: choosing a campaign in the table
// sets the selection's campaign, choosing a message in the tree sets its message; a campaign
// or message selected elsewhere is shown and selected here.
//
// No SQL here: data comes from model/timeline (loadCampaignList, loadCampaignTree) on a worker
// thread (reload(), and each campaign's tree when it is selected) or on the calling thread
// (loadNow(), for tests and screenshots).
#include "model/AnalysisSelection.h"
#include "model/timeline/CampaignTree.h"

#include <QPointer>
#include <QWidget>

class QComboBox;
class QLabel;
class QListWidget;
class QSortFilterProxyModel;
class QSplitter;
class QTableView;
class QTreeView;

namespace mt {

class CampaignTableModel;
class CampaignTreeModel;

class CampaignPanel : public QWidget {
    Q_OBJECT
public:
    explicit CampaignPanel(AnalysisSelection* selection, QWidget* parent = nullptr);
    ~CampaignPanel() override;

    void setCasePath(const QString& path) { m_casePath = path; }
    QString casePath() const { return m_casePath; }
    // Reads the campaign list (and the selected campaign's tree) on a worker thread; loaded()
    // when shown.
    void reload();
    // The same on the calling thread, tree included.
    void loadNow();

    // What the panel says about the case instead of campaigns ("" when it shows some).
    QString note() const;
    // The campaign whose tree is shown, 0 for none.
    qint64 shownCampaign() const { return m_tree.campaign.id; }
    const CampaignTree& tree() const { return m_tree; }
    QString detailsText() const;       // the summary as plain text
    QStringList unitsReached() const;  // the units list as shown

    AnalysisSelection* selection() const { return m_selection; }
    CampaignTableModel* campaignModel() const { return m_campaigns; }
    QTableView* campaignTable() const { return m_table; }
    CampaignTreeModel* treeModel() const { return m_treeModel; }
    QTreeView* treeView() const { return m_treeView; }
    QComboBox* shapeBox() const { return m_shape; }

signals:
    void loaded();        // the campaign list is shown (after reload() or loadNow())
    void treeLoaded();    // a campaign's tree is shown

private:
    struct ListResult {
        CampaignList list;
        CampaignTree tree;
    };
    void applyList(const ListResult& r);
    void showTree(const CampaignTree& tree);
    void requestTree(qint64 campaignId);
    void onSelectionChanged(AnalysisSelection::Facets facets);
    void selectCampaignRow(qint64 campaignId);
    void selectMessageNode(qint64 messageId);
    void updateDetails();
    void updateNote();

    QPointer<AnalysisSelection> m_selection;   // the window's; a private one when none is given
    QString m_casePath;
    CampaignList m_list;
    CampaignTree m_tree;
    bool m_syncing = false;   // while the panel mirrors the selection into its widgets

    // Each read runs on the thread pool with a watcher of its own; a result whose serial is
    // no longer the latest is dropped (the analyst moved on).
    int m_listSerial = 0, m_treeSerial = 0;

    QLabel* m_note = nullptr;
    QTableView* m_table = nullptr;
    CampaignTableModel* m_campaigns = nullptr;
    QSortFilterProxyModel* m_sorted = nullptr;
    QSplitter* m_content = nullptr;   // table above, summary and tree below
    QSplitter* m_lower = nullptr;
    QLabel* m_details = nullptr;
    QLabel* m_unitsTitle = nullptr;
    QListWidget* m_units = nullptr;
    QComboBox* m_shape = nullptr;
    QTreeView* m_treeView = nullptr;
    CampaignTreeModel* m_treeModel = nullptr;
};

// Builds the panel for the case offscreen at size, selects its first campaign (the largest
// when there are several) and saves it as PNG.
bool renderCampaignScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error);

} // namespace mt
