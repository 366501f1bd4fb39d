#pragma once
// `mailtriage-cli report`: the incident report as a PDF (issue 7). Needs a QApplication (the
// figures are painted by the views); cli_main makes one, offscreen without a display.
#include <QStringList>
#include <QTextStream>

namespace mt::cli {
int runReport(const QStringList& args, QTextStream& out, QTextStream& err);
// `mailtriage-cli export --case FILE --table messages|campaigns|recall|audit [--format csv|json] [--output FILE]`
int runExport(const QStringList& args, QTextStream& out, QTextStream& err);
} // namespace mt::cli
