#pragma once
// The incident report (issue 7) as a PDF: title page, contents, executive summary, the
// timeline and the org map, one section per campaign (patient zero, generations and the
// propagation tree, top units and users, attachment types, the rule evidence), recall
// outcomes per server and the audit trail as an appendix.
#include "model/report/ReportData.h"
#include "PagedReport.h"

#include <QPageSize>
#include <QString>
#include <functional>

namespace mt::report {

// Figures drawn by the views themselves (the same code as on screen), onto the PDF's painter.
// Each may be empty: the report then says the figure is not available.
struct ReportFigures {
    PagedReport::Painter timeline;  // the whole case's timeline
    PagedReport::Painter orgMap;    // the org map with the flagged mail
};

struct ReportRequest {
    QString casePath, outputPath;
    ReportOptions options;
    QPageSize pageSize = QPageSize(QPageSize::A4);
};

struct ReportResult {
    bool ok = false;
    QString error;
    int pages = 0;
    qint64 loadMs = 0, writeMs = 0;
};

// Loads the data and writes the PDF (figures painted on the calling thread).
ReportResult writeIncidentReport(const ReportRequest& request, const ReportFigures& figures = {});
// The same from data already loaded.
ReportResult writeIncidentReport(const ReportData& data, const ReportRequest& request, const ReportFigures& figures);

// The propagation tree of a campaign, generation by generation from left to right; every
// message a dot, every "received, then sent on" an edge to its parent.
void paintPropagationTree(QPainter& p, const QRectF& rect, const CampaignSection& campaign);

} // namespace mt::report
