#include "OrgMapPanel.h"

#include "OrgMapLegend.h"
#include "OrgMapView.h"
#include "PlaybackBar.h"
#include "UnitUsersModel.h"
#include "model/AnalysisSelection.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPixmap>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace mt {

OrgMapPanel::OrgMapPanel(QWidget* parent)
    : QWidget(parent), m_ownSelection(new AnalysisSelection(this)), m_watcher(new QFutureWatcher<std::shared_ptr<OrgMapData>>(this)) {
    auto* top = new QHBoxLayout;
    m_search = new QLineEdit(this);
    m_search->setPlaceholderText(tr("Find a user or unit\u2026"));
    m_search->setClearButtonEnabled(true);
    m_search->setAccessibleName(tr("Find a user or unit"));
    auto* fit = new QPushButton(tr("Fit"), this);
    fit->setToolTip(tr("Fit the whole map (F, Ctrl+0)"));
    m_status = new QLabel(this);
    top->addWidget(m_search, 2);
    top->addWidget(fit);
    top->addWidget(m_status, 3);

    m_map = new OrgMapView(this);
    m_legend = new OrgMapLegend(this);
    m_users = new UnitUsersModel(this);
    m_table = new QTableView(this);
    m_table->setModel(m_users);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(UnitUsersModel::Email, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(UnitUsersModel::Name, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(UnitUsersModel::FlaggedSent, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(UnitUsersModel::FlaggedReceived, QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(UnitUsersModel::Types, QHeaderView::ResizeToContents);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_unitLabel = new QLabel(this);
    m_unitLabel->setWordWrap(true);

    auto* side = new QWidget(this);
    auto* sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(m_legend);
    sideLayout->addWidget(m_unitLabel);
    sideLayout->addWidget(m_table, 1);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_map);
    split->addWidget(side);
    split->setStretchFactor(0, 1);
    split->setStretchFactor(1, 0);
    split->setSizes({1000, 460});

    m_playback = new PlaybackBar(this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    layout->addWidget(m_playback);

    connect(fit, &QPushButton::clicked, m_map, &OrgMapView::fitAll);
    connect(m_search, &QLineEdit::returnPressed, this, [this] {
        const bool found = m_map->search(m_search->text());
        m_search->setStyleSheet(found || m_search->text().isEmpty() ? QString() : QStringLiteral("QLineEdit { border: 2px solid #D55E00; }"));
        m_search->setToolTip(found ? QString() : tr("Nothing matches"));
    });
    connect(m_playback, &PlaybackBar::cursorChanged, m_map, &OrgMapView::setTimeCursor);
    connect(m_map, &OrgMapView::selectedUnitChanged, this, &OrgMapPanel::updateUsers);
    connect(m_map, &OrgMapView::countsChanged, this, [this] {
        updateUsers();
        updateStatus();
    });
    connect(m_table, &QTableView::clicked, this, [this](const QModelIndex& i) {
        const int user = m_users->userAt(i.row());
        if (user >= 0 && m_selection && m_map->data()) m_selection->setUser(m_map->data()->users()[user].email);
    });
    connect(m_watcher, &QFutureWatcherBase::finished, this, [this] {
        std::shared_ptr<OrgMapData> d = m_watcher->result();
        if (d) setData(d);
        emit loaded(d != nullptr, m_loadError);
    });
    setSelection(nullptr);
    setData(nullptr);
}

OrgMapPanel::~OrgMapPanel() {
    m_watcher->waitForFinished();
}

void OrgMapPanel::setSelection(AnalysisSelection* selection) {
    if (m_selection) disconnect(m_selection, nullptr, this, nullptr);
    m_selection = selection ? selection : m_ownSelection;
    m_map->setSelection(m_selection);
    connect(m_selection, &AnalysisSelection::changed, this, [this](AnalysisSelection::Facets f) {
        if (f & AnalysisSelection::User) {
            const int row = m_users->rowOf(m_selection->user());
            if (row >= 0) m_table->selectRow(row);
        }
    });
}

bool OrgMapPanel::openCase(const QString& casePath, QString* error) {
    auto d = std::make_shared<OrgMapData>();
    if (!d->load(casePath, error)) {
        setData(nullptr);
        return false;
    }
    setData(d);
    return true;
}

void OrgMapPanel::openCaseAsync(const QString& casePath) {
    m_watcher->waitForFinished();
    m_watcher->setFuture(QtConcurrent::run([this, casePath]() -> std::shared_ptr<OrgMapData> {
        auto d = std::make_shared<OrgMapData>();
        QString err;
        if (!d->load(casePath, &err)) {
            m_loadError = err;
            return nullptr;
        }
        m_loadError.clear();
        return d;
    }));
}

void OrgMapPanel::setData(std::shared_ptr<const OrgMapData> data) {
    m_users->setData(data);
    m_legend->setCampaigns(data ? data->campaigns() : QVector<CampaignInfo>());
    m_playback->setRange(data ? data->firstTime() : 0, data ? data->lastTime() : 0);
    m_map->setData(data);
    if (m_selection) m_map->setSelection(m_selection); // apply the current selection to the new case
    updateUsers();
    updateStatus();
}

void OrgMapPanel::closeCase() { setData(nullptr); }

std::shared_ptr<const OrgMapData> OrgMapPanel::data() const { return m_map->data(); }

void OrgMapPanel::updateUsers() {
    const auto d = m_map->data();
    const int unit = m_map->selectedUnit();
    m_users->setUnit(unit, m_map->filter());
    if (!d || unit < 0) {
        m_unitLabel->setText(d ? tr("Select a unit to list its users.") : QString());
        return;
    }
    const OrgUnit& u = d->units()[unit];
    const UnitCounts& c = m_map->shownCounts()[unit];
    m_unitLabel->setText(tr("<b>%1</b> \u2014 %2 people, %3 flagged sent, %4 received")
                             .arg(u.path.toHtmlEscaped())
                             .arg(u.subtreeHeadCount)
                             .arg(c.sent)
                             .arg(c.received));
    if (m_selection && !m_selection->user().isEmpty()) {
        const int row = m_users->rowOf(m_selection->user());
        if (row >= 0) m_table->selectRow(row);
    }
}

void OrgMapPanel::updateStatus() {
    const auto d = m_map->data();
    if (!d) {
        m_status->setText(tr("No case open"));
        return;
    }
    const int shown = d->messageCount(m_map->filter());
    QString s = tr("%1 units, %2 users, %3 of %4 flagged messages shown").arg(d->units().size()).arg(d->users().size()).arg(shown).arg(d->messages().size());
    if (m_map->linkTotal() > m_map->linkItems().size())
        s += tr("; %1 of %2 links (largest)").arg(m_map->linkItems().size()).arg(m_map->linkTotal());
    m_status->setText(s);
}

bool renderOrgMapScreenshot(const QString& casePath, const QString& outPng, QSize size, QString* error) {
    OrgMapPanel panel;
    panel.setAttribute(Qt::WA_DontShowOnScreen);
    panel.resize(size);
    panel.show();
    if (!casePath.isEmpty() && !panel.openCase(casePath, error)) return false;
    QApplication::processEvents();
    // Select the unit with the most flagged mail (a team), so the list has something to say.
    if (const auto d = panel.data()) {
        int best = -1;
        const auto& counts = panel.map()->shownCounts();
        for (int i = 0; i < static_cast<int>(d->units().size()); ++i)
            if (d->units()[i].children.empty() && counts[i].total() > 0 && (best < 0 || counts[i].total() > counts[best].total())) best = i;
        if (best >= 0) panel.selection()->setUnit(d->units()[best].id, d->units()[best].path);
    }
    QApplication::processEvents();
    panel.map()->fitAll();
    QApplication::processEvents();
    const QPixmap shot = panel.grab();
    if (!shot.save(outPng, "PNG")) {
        if (error) *error = QStringLiteral("could not write %1").arg(outPng);
        return false;
    }
    return true;
}

} // namespace mt
