#include "CampaignPanel.h"

#include "CampaignTableModel.h"
#include "CampaignTreeModel.h"

#include <QApplication>
#include <QComboBox>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QPixmap>
#include <QScopedValueRollback>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTextDocument>
#include <QTreeView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace mt {

namespace {

QString durationText(qint64 ms) {
    if (ms < 1000) return QStringLiteral("at once");
    const qint64 s = ms / 1000;
    if (s < 60) return QStringLiteral("%1 s later").arg(s);
    if (s < 3600) return QStringLiteral("%1 min %2 s later").arg(s / 60).arg(s % 60);
    return QStringLiteral("%1 h %2 min later").arg(s / 3600).arg((s % 3600) / 60);
}

QLabel* heading(const QString& text, QWidget* parent) {
    auto* l = new QLabel(text, parent);
    QFont f = l->font();
    f.setBold(true);
    l->setFont(f);
    return l;
}

} // namespace

CampaignPanel::CampaignPanel(AnalysisSelection* selection, QWidget* parent) : QWidget(parent), m_selection(selection) {
    if (!m_selection) m_selection = new AnalysisSelection(this);   // standalone: a selection of its own
    m_campaigns = new CampaignTableModel(this);
    m_sorted = new QSortFilterProxyModel(this);
    m_sorted->setSourceModel(m_campaigns);
    m_sorted->setSortRole(CampaignTableModel::SortRole);

    // Instead of the panel when there is nothing to list: what is missing and what to do.
    m_note = new QLabel(this);
    m_note->setWordWrap(true);
    m_note->setAlignment(Qt::AlignCenter);
    m_note->setStyleSheet(QStringLiteral("QLabel { color: #555; font-size: 14pt; padding: 24px; }"));

    m_table = new QTableView(this);
    m_table->setModel(m_sorted);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(CampaignTableModel::Id, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(CampaignTableModel::Label, QHeaderView::Stretch);

    // Lower part: summary and units on the left, the tree on the right.
    auto* summary = new QWidget(this);
    auto* sl = new QVBoxLayout(summary);
    sl->setContentsMargins(0, 0, 0, 0);
    sl->addWidget(heading(QStringLiteral("Campaign"), summary));
    m_details = new QLabel(summary);
    m_details->setWordWrap(true);
    m_details->setTextFormat(Qt::RichText);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    sl->addWidget(m_details);
    m_unitsTitle = heading(QStringLiteral("Units reached"), summary);
    sl->addWidget(m_unitsTitle);
    m_units = new QListWidget(summary);
    m_units->setSelectionMode(QAbstractItemView::NoSelection);
    sl->addWidget(m_units, 1);

    auto* treeBox = new QWidget(this);
    auto* tl = new QVBoxLayout(treeBox);
    tl->setContentsMargins(0, 0, 0, 0);
    auto* treeHead = new QHBoxLayout;
    treeHead->addWidget(heading(QStringLiteral("Propagation tree"), treeBox));
    treeHead->addStretch(1);
    m_shape = new QComboBox(treeBox);
    m_shape->addItem(QStringLiteral("By who passed it on"), int(CampaignTreeModel::ByParent));
    m_shape->addItem(QStringLiteral("By generation"), int(CampaignTreeModel::ByGeneration));
    treeHead->addWidget(m_shape);
    tl->addLayout(treeHead);
    m_treeModel = new CampaignTreeModel(this);
    m_treeView = new QTreeView(treeBox);
    m_treeView->setModel(m_treeModel);
    m_treeView->setUniformRowHeights(true);
    m_treeView->setAlternatingRowColors(true);
    m_treeView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_treeView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_treeView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_treeView->header()->setStretchLastSection(true);
    m_treeView->header()->setSectionResizeMode(QHeaderView::Interactive);
    tl->addWidget(m_treeView, 1);

    m_lower = new QSplitter(Qt::Horizontal, this);
    m_lower->addWidget(summary);
    m_lower->addWidget(treeBox);
    m_lower->setStretchFactor(0, 2);
    m_lower->setStretchFactor(1, 5);

    m_content = new QSplitter(Qt::Vertical, this);
    auto* top = new QWidget(m_content);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(heading(QStringLiteral("Campaigns"), top));
    topLayout->addWidget(m_table, 1);
    m_content->addWidget(top);
    m_content->addWidget(m_lower);
    m_content->setStretchFactor(0, 1);
    m_content->setStretchFactor(1, 3);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_note, 1);
    layout->addWidget(m_content, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (m_syncing || !m_selection || !current.isValid()) return;
        m_selection->setCampaign(current.data(CampaignTableModel::CampaignIdRole).toLongLong());
    });
    connect(m_treeView->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this](const QModelIndex& current) {
        if (m_syncing || !m_selection) return;
        const qint64 id = m_treeModel->messageIdAt(current);
        if (id) m_selection->setMessage(id);
    });
    connect(m_shape, &QComboBox::currentIndexChanged, this, [this] {
        m_treeModel->setShape(CampaignTreeModel::Shape(m_shape->currentData().toInt()));
        m_treeView->expandToDepth(m_treeModel->shape() == CampaignTreeModel::ByGeneration ? 0 : 1);
        if (m_selection) selectMessageNode(m_selection->messageId());
    });
    connect(m_selection, &AnalysisSelection::changed, this, &CampaignPanel::onSelectionChanged);
    applyList({});
}

CampaignPanel::~CampaignPanel() = default;

void CampaignPanel::reload() {
    const int serial = ++m_listSerial;
    ++m_treeSerial;   // a tree read in flight belongs to the old list
    if (m_casePath.isEmpty()) {
        applyList({});
        emit loaded();
        return;
    }
    const QString path = m_casePath;
    const qint64 campaign = m_selection ? m_selection->campaignId() : 0;
    auto* watcher = new QFutureWatcher<ListResult>(this);
    connect(watcher, &QFutureWatcher<ListResult>::finished, this, [this, watcher, serial] {
        watcher->deleteLater();
        if (serial != m_listSerial) return;
        applyList(watcher->result());
        emit loaded();
    });
    watcher->setFuture(QtConcurrent::run([path, campaign] {
        ListResult r;
        r.list = loadCampaignList(path);
        if (r.list.ok && campaign) r.tree = loadCampaignTree(path, campaign);
        return r;
    }));
}

void CampaignPanel::loadNow() {
    ++m_listSerial;
    ++m_treeSerial;
    ListResult r;
    if (!m_casePath.isEmpty()) {
        r.list = loadCampaignList(m_casePath);
        const qint64 campaign = m_selection ? m_selection->campaignId() : 0;
        if (r.list.ok && campaign) r.tree = loadCampaignTree(m_casePath, campaign);
    }
    applyList(r);
    emit loaded();
}

void CampaignPanel::applyList(const ListResult& r) {
    m_list = r.list;
    m_syncing = true;
    m_campaigns->setCampaigns(m_list.campaigns);
    m_syncing = false;
    updateNote();
    const qint64 wanted = m_selection ? m_selection->campaignId() : 0;
    if (wanted && r.tree.campaign.id == wanted) {
        selectCampaignRow(wanted);
        showTree(r.tree);
    } else if (wanted && m_campaigns->rowOf(wanted) >= 0) {
        selectCampaignRow(wanted);
        requestTree(wanted);
    } else {
        showTree({});
    }
}

void CampaignPanel::requestTree(qint64 campaignId) {
    const int serial = ++m_treeSerial;
    if (m_casePath.isEmpty() || campaignId == 0) {
        showTree({});
        return;
    }
    const QString path = m_casePath;
    auto* watcher = new QFutureWatcher<CampaignTree>(this);
    connect(watcher, &QFutureWatcher<CampaignTree>::finished, this, [this, watcher, serial] {
        watcher->deleteLater();
        if (serial != m_treeSerial) return;
        showTree(watcher->result());
    });
    watcher->setFuture(QtConcurrent::run([path, campaignId] { return loadCampaignTree(path, campaignId); }));
}

void CampaignPanel::showTree(const CampaignTree& tree) {
    m_tree = tree;
    m_syncing = true;
    m_treeModel->setTree(tree);
    m_treeView->expandToDepth(m_treeModel->shape() == CampaignTreeModel::ByGeneration ? 0 : 1);
    for (int c = 0; c < CampaignTreeModel::ColumnCount; ++c) m_treeView->resizeColumnToContents(c);
    m_syncing = false;
    updateDetails();
    if (m_selection) selectMessageNode(m_selection->messageId());
    emit treeLoaded();
}

void CampaignPanel::onSelectionChanged(AnalysisSelection::Facets facets) {
    if (facets & AnalysisSelection::Campaign) {
        const qint64 id = m_selection->campaignId();
        selectCampaignRow(id);
        if (id != m_tree.campaign.id) {
            if (id && m_campaigns->rowOf(id) >= 0) requestTree(id);
            else {
                ++m_treeSerial;
                showTree({});
            }
        }
    }
    if (facets & AnalysisSelection::Message) selectMessageNode(m_selection->messageId());
}

void CampaignPanel::selectCampaignRow(qint64 campaignId) {
    const QScopedValueRollback<bool> guard(m_syncing, true);
    const int row = m_campaigns->rowOf(campaignId);
    if (row < 0) {
        m_table->selectionModel()->clear();
        return;
    }
    const QModelIndex index = m_sorted->mapFromSource(m_campaigns->index(row, 0));
    m_table->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_table->scrollTo(index);
}

void CampaignPanel::selectMessageNode(qint64 messageId) {
    const QScopedValueRollback<bool> guard(m_syncing, true);
    const QModelIndex index = messageId ? m_treeModel->indexOfMessage(messageId) : QModelIndex();
    if (!index.isValid()) {
        m_treeView->selectionModel()->clear();
        return;
    }
    for (QModelIndex p = index.parent(); p.isValid(); p = p.parent()) m_treeView->expand(p);
    m_treeView->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    m_treeView->scrollTo(index);
}

void CampaignPanel::updateNote() {
    const QString text = note();
    m_note->setText(text);
    m_note->setVisible(!text.isEmpty());
    m_content->setVisible(text.isEmpty());
}

QString CampaignPanel::note() const {
    if (!m_list.ok) return m_list.error.isEmpty() ? QStringLiteral("No case open") : m_list.error;
    if (!m_list.hasDetection)
        return QStringLiteral("Detection has not run on this case: run it to find campaigns (Detection > Run detection, Ctrl+R)");
    if (m_list.campaigns.isEmpty()) return QStringLiteral("Detection found no campaign in this case");
    return {};
}

void CampaignPanel::updateDetails() {
    m_units->clear();
    const CampaignView& c = m_tree.campaign;
    if (c.id == 0) {
        m_details->setText(m_list.campaigns.isEmpty() ? QString()
                                                      : QStringLiteral("<i>Select a campaign to see where it started and how it spread.</i>"));
        m_unitsTitle->setText(QStringLiteral("Units reached"));
        return;
    }
    const QLocale loc;
    const auto esc = [](const QString& s) { return s.toHtmlEscaped(); };
    QString html = QStringLiteral("<p><b>%1</b></p>").arg(esc(c.label.isEmpty() ? QStringLiteral("Campaign %1").arg(c.id) : c.label));
    QString pzUnit;
    qint64 pzTime = c.firstSeen;
    const int pzIndex = m_tree.indexOf(c.patientZeroMessage);
    if (pzIndex >= 0) {
        pzUnit = m_tree.nodes[pzIndex].senderUnit;
        pzTime = m_tree.nodes[pzIndex].time;
    }
    html += QStringLiteral("<p>Patient zero: <b>%1</b>").arg(esc(c.patientZero));
    if (!pzUnit.isEmpty()) html += QStringLiteral("<br>in %1").arg(esc(pzUnit));
    html += QStringLiteral("<br>first message %1</p>").arg(esc(CampaignTableModel::formatTime(pzTime)));
    html += c.detectedAt ? QStringLiteral("<p>Detected %1 (%2)</p>")
                               .arg(esc(CampaignTableModel::formatTime(c.detectedAt)), esc(durationText(c.detectedAt - c.firstSeen)))
                         : QStringLiteral("<p>The rules never fired on it: all its messages joined through propagation.</p>");
    const int generations = std::max(c.generations, int(m_tree.generations.size()));
    html += QStringLiteral("<p>%1 messages from %2 senders to %3 recipients<br>%4 generation%5, %6 propagation link%7</p>")
                .arg(loc.toString(c.messages), loc.toString(c.senders), loc.toString(c.recipients), loc.toString(generations),
                     generations == 1 ? QString() : QStringLiteral("s"), loc.toString(m_tree.edgeCount),
                     m_tree.edgeCount == 1 ? QString() : QStringLiteral("s"));
    m_details->setText(html);
    m_unitsTitle->setText(QStringLiteral("Units reached (%1)").arg(loc.toString(c.units.size())));
    m_units->addItems(c.units);
}

QString CampaignPanel::detailsText() const {
    QTextDocument doc;
    doc.setHtml(m_details->text());
    return doc.toPlainText();
}

QStringList CampaignPanel::unitsReached() const {
    QStringList out;
    for (int i = 0; i < m_units->count(); ++i) out << m_units->item(i)->text();
    return out;
}

bool renderCampaignScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error) {
    AnalysisSelection selection;
    CampaignPanel panel(&selection);
    panel.setAttribute(Qt::WA_DontShowOnScreen);
    panel.resize(size);
    panel.setCasePath(casePath);
    if (!casePath.isEmpty()) {
        const CampaignList list = loadCampaignList(casePath);
        if (!list.ok) {
            if (error) *error = list.error;
            return false;
        }
        const CampaignView* largest = nullptr;
        for (const CampaignView& c : list.campaigns)
            if (!largest || c.messages > largest->messages) largest = &c;
        if (largest) {
            selection.setCampaign(largest->id);
            selection.setMessage(largest->patientZeroMessage);
        }
    }
    panel.loadNow();
    panel.show();
    QApplication::processEvents();
    const QPixmap shot = panel.grab();
    if (!shot.save(outPng, "PNG")) {
        if (error) *error = QStringLiteral("cannot write %1").arg(outPng);
        return false;
    }
    return true;
}

} // namespace mt
