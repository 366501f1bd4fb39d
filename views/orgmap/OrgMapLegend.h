#pragma once
// The org map's key: heat levels, type glyphs, recall glyphs, campaign colours of the links,
// outlines. Drawn with the same functions as the tiles.
#include "model/orgmap/OrgMapData.h"

#include <QWidget>

namespace mt {

class OrgMapLegend : public QWidget {
    Q_OBJECT
public:
    explicit OrgMapLegend(QWidget* parent = nullptr);
    void setCampaigns(const QVector<CampaignInfo>& campaigns);
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override { return sizeHint(); }

protected:
    void paintEvent(QPaintEvent*) override;

private:
    int rows() const;
    QVector<CampaignInfo> m_campaigns;
};

} // namespace mt
