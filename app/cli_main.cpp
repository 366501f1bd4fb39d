#include "Cli.h"
#include "CliReport.h"

#include <QApplication>
#include <QCoreApplication>
#include <cstdio>
#include <cstring>
#include <memory>

int main(int argc, char** argv) {
    // The report paints views and charts: it needs a QApplication, offscreen when there is
    // no display. Every other command runs without one.
    const bool report = argc > 1 && std::strcmp(argv[1], "report") == 0;
    if (report && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && qEnvironmentVariableIsEmpty("DISPLAY")
        && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QCoreApplication> app;
    if (report) app = std::make_unique<QApplication>(argc, argv);
    else app = std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("mailtriage-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("MailTriage"));
    QTextStream out(stdout), err(stderr);
    const QStringList args = QCoreApplication::arguments().mid(1);
    if (report) return mt::cli::runReport(args.mid(1), out, err);
    if (!args.isEmpty() && args.first() == QLatin1String("export")) return mt::cli::runExport(args.mid(1), out, err);
    return mt::cli::run(args, out, err);
}
