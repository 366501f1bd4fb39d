#pragma once
// The campaigns of a case as a table (issue 5's campaign panel and issue 4's campaign list):
// one row per campaign, plain CampaignView values handed in by the owner (no SQL here).
// Sort through a QSortFilterProxyModel with sortRole() == SortRole: it gives numbers and
// times as numbers, so "messages" and "detected at" sort by value, not as text.
#include "model/CaseReader.h"

#include <QAbstractTableModel>

namespace mt {

class CampaignTableModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Id, Label, Messages, Evidence, Senders, Recipients, PatientZero, FirstSeen, DetectedAt, Units, ColumnCount };
    enum Role { SortRole = Qt::UserRole + 1, CampaignIdRole };

    explicit CampaignTableModel(QObject* parent = nullptr);

    void setCampaigns(const QVector<CampaignView>& campaigns);
    const QVector<CampaignView>& campaigns() const { return m_campaigns; }
    const CampaignView* campaign(qint64 id) const;
    int rowOf(qint64 campaignId) const;   // -1 when absent

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Local time as the tables show it ("" for 0).
    static QString formatTime(qint64 ms);

private:
    QVector<CampaignView> m_campaigns;
};

} // namespace mt
