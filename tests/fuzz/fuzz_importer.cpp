// libFuzzer target for one importer (issue 15 item 18), chosen by MT_FUZZ_TARGET at compile
// time: the bytes are split into lines and fed the way ImportJob feeds a file (the first
// bytes also through the binary and format sniffing); an org chart target reads them as a
// whole CSV or LDIF file. Built with AddressSanitizer and UBSan (tests/fuzz/CMakeLists.txt):
// a crash, a leak or undefined behaviour stops the run with the input that caused it.
#include "importers/LineReader.h"
#include "importers/LogFormat.h"
#include "importers/OrgChart.h"
#include "importers/PostfixLog.h"

#include <QCoreApplication>
#include <memory>
#include <string>
#include <string_view>

namespace {

enum Target { Postfix, Exim, Zeek, ZeekFiles, Exchange, M365, Csv, Jsonl, OrgCsv, OrgLdif, Sniff };

template <typename Feed>
void eachLine(std::string_view data, Feed&& feed) {
    std::size_t pos = 0;
    while (pos < data.size()) {
        std::size_t nl = data.find('\n', pos);
        if (nl == std::string_view::npos) nl = data.size();
        std::string_view line = data.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.size() <= mt::LineReader::kDefaultMaxLine) feed(line); // longer ones: rejected by the reader
        pos = nl + 1;
    }
}

void traffic(mt::LogFormat f, std::string_view data) {
    auto files = std::make_shared<mt::ZeekFileMap>();
    auto parser = mt::makeTrafficParser(f, files);
    mt::TrafficContext ctx;
    ctx.referenceYear = 2026;
    ctx.referenceMonth = 12;
    ctx.referenceDay = 6;
    ctx.serverName = "fuzz";
    ctx.zeekFiles = files;
    parser->beginFile(ctx);
    std::string why;
    eachLine(data, [&](std::string_view line) {
        why.clear();
        (void)parser->stampOf(line);
        parser->feed(line, why);
    });
    parser->endFile();
    std::vector<mt::CopyRecord> open;
    parser->snapshotOpen(open);
    parser->completed().clear();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* bytes, std::size_t size) {
    static int argc = 1;
    static char name[] = "fuzz";
    static char* argv[] = {name, nullptr};
    static QCoreApplication* app = new QCoreApplication(argc, argv); // QString codecs, time zones
    (void)app;
    const std::string_view data(reinterpret_cast<const char*>(bytes), size);
    switch (MT_FUZZ_TARGET) {
    case Postfix: {
        mt::PostfixAssembler a;
        a.framing().setReference(2026, 12, false, 6);
        std::string why;
        eachLine(data, [&](std::string_view line) { a.feed(line, why); });
        std::vector<mt::CopyRecord> open;
        a.snapshotOpen(open);
        break;
    }
    case Exim: traffic(mt::LogFormat::Exim, data); break;
    case Zeek: traffic(mt::LogFormat::Zeek, data); break;
    case ZeekFiles: traffic(mt::LogFormat::ZeekFiles, data); break;
    case Exchange: traffic(mt::LogFormat::Exchange, data); break;
    case M365: traffic(mt::LogFormat::M365, data); break;
    case Csv: traffic(mt::LogFormat::Csv, data); break;
    case Jsonl: traffic(mt::LogFormat::Jsonl, data); break;
    case OrgCsv: {
        mt::OrgChartResult r;
        mt::orgdetail::parseCsv(data, "fuzz.csv", {{"domain", "corp.example"}}, r);
        break;
    }
    case OrgLdif: {
        mt::OrgChartResult r;
        mt::orgdetail::parseLdif(data, "fuzz.ldif", r);
        break;
    }
    case Sniff: {
        (void)mt::binaryKind(data);
        (void)mt::sniffHead(data);
        break;
    }
    }
    return 0;
}
