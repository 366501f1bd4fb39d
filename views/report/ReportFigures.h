#pragma once
// The report's figures, painted by the same views the window shows (built offscreen for the
// case and kept alive while the report is written).
#include "IncidentReport.h"

#include <QString>
#include <memory>

namespace mt {

class ReportFigureSource {
public:
    ReportFigureSource(const QString& casePath, qint64 campaignId = 0);
    ~ReportFigureSource();
    report::ReportFigures figures() const;

private:
    struct Views;
    std::unique_ptr<Views> m_views;
};

} // namespace mt
