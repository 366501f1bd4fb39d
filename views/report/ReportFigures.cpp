#include "ReportFigures.h"

namespace mt {

// Filled in as the views arrive (timeline, org map).
struct ReportFigureSource::Views {
    QString casePath;
    qint64 campaignId = 0;
};

ReportFigureSource::ReportFigureSource(const QString& casePath, qint64 campaignId) : m_views(std::make_unique<Views>()) {
    m_views->casePath = casePath;
    m_views->campaignId = campaignId;
}

ReportFigureSource::~ReportFigureSource() = default;

report::ReportFigures ReportFigureSource::figures() const { return {}; }

} // namespace mt
