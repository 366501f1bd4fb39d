#include "Rules.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace mt::det {

namespace {

constexpr std::pair<KeyKind, const char*> kKeyNames[] = {
    {KeyKind::Sender, "sender"}, {KeyKind::Client, "client"}, {KeyKind::Subnet, "subnet"},
    {KeyKind::Unit, "unit"},     {KeyKind::Server, "server"}};
constexpr std::pair<LinkKind, const char*> kLinkNames[] = {
    {LinkKind::ClientServer, "client-server"}, {LinkKind::ServerServer, "server-server"}, {LinkKind::UnitUnit, "unit-unit"}};

QJsonArray strings(const std::vector<std::string>& v) {
    QJsonArray a;
    for (const std::string& s : v) a.append(QString::fromStdString(s));
    return a;
}

std::vector<std::string> stringsFrom(const QJsonValue& v) {
    std::vector<std::string> out;
    for (const QJsonValue& x : v.toArray()) {
        std::string s = x.toString().trimmed().toLower().toStdString();
        if (!s.empty() && s.front() == '.') s.erase(0, 1);
        if (!s.empty()) out.push_back(std::move(s));
    }
    return out;
}

// Reads field `name` into `out` when present (numbers and booleans).
template <class T>
void read(const QJsonObject& o, const char* name, T& out) {
    const QJsonValue v = o.value(QLatin1String(name));
    if (v.isUndefined() || v.isNull()) return;
    if constexpr (std::is_same_v<T, bool>) out = v.toBool(out);
    else if constexpr (std::is_same_v<T, double>) out = v.toDouble(out);
    else out = static_cast<T>(v.toDouble(static_cast<double>(out)));
}

} // namespace

const char* keyKindName(KeyKind k) {
    for (const auto& [kind, name] : kKeyNames)
        if (kind == k) return name;
    return "sender";
}

bool keyKindFromName(const QString& s, KeyKind& out) {
    for (const auto& [kind, name] : kKeyNames)
        if (s == QLatin1String(name)) {
            out = kind;
            return true;
        }
    return false;
}

const char* linkKindName(LinkKind k) {
    for (const auto& [kind, name] : kLinkNames)
        if (kind == k) return name;
    return "client-server";
}

bool linkKindFromName(const QString& s, LinkKind& out) {
    for (const auto& [kind, name] : kLinkNames)
        if (s == QLatin1String(name)) {
            out = kind;
            return true;
        }
    return false;
}

RuleSet RuleSet::defaults() {
    RuleSet r;
    // Rule 1. A person writes a message or two an hour; the limits are far above that but far
    // below what the fixed per-sender limits of postfwd or rspamd allow. Keys that aggregate
    // many people (subnet, unit, server) get limits that only a flood reaches; the baseline
    // rule judges them against their own history instead.
    r.rates = {
        {"rate-sender-messages", KeyKind::Sender, Metric::Messages, 600, 10, 0.5, true},
        {"rate-sender-recipients", KeyKind::Sender, Metric::Recipients, 600, 40, 0.5, true},
        {"rate-client-messages", KeyKind::Client, Metric::Messages, 600, 10, 0.5, true},
        {"rate-subnet-messages", KeyKind::Subnet, Metric::Messages, 600, 400, 0.5, true},
        {"rate-unit-messages", KeyKind::Unit, Metric::Messages, 600, 60, 0.5, true},
        {"rate-server-messages", KeyKind::Server, Metric::Messages, 600, 3000, 0.5, true},
    };
    // Rule 2.
    r.volumes = {
        {"volume-client-server", LinkKind::ClientServer, 600, 25'000'000, 0.5, true},
        {"volume-server-server", LinkKind::ServerServer, 600, 1'000'000'000, 0.5, true},
        {"volume-unit-unit", LinkKind::UnitUnit, 600, 100'000'000, 0.5, true},
    };
    // Rule 3.
    r.type.executable = {"exe", "com", "pif", "scr", "msi", "msp", "dll", "cpl", "jar", "lnk", "reg", "hta",
                         "application", "gadget", "msc", "inf", "sys", "cmd", "bat"};
    r.type.script = {"vbs", "vbe", "js", "jse", "wsf", "wsh", "wsc", "ws", "ps1", "ps2", "psc1", "sct", "shs", "vb"};
    r.type.macro = {"doc", "docm", "dot", "dotm", "xls", "xlsm", "xlt", "xltm", "xlam", "xla", "xlm",
                    "ppt", "pptm", "pot", "potm", "pps", "ppsm", "ppam"};
    r.type.archive = {"zip", "rar", "7z", "ace", "arj", "cab", "iso", "img", "gz", "tgz", "bz2", "xz", "tar", "r00"};
    r.type.decoy = {"txt", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "jpg", "jpeg", "gif", "png",
                    "bmp", "tif", "tiff", "mp3", "mp4", "avi", "mpg", "mpeg", "wav", "htm", "html", "csv", "odt", "zip"};
    r.type.mimeTypes = {"application/x-msdownload", "application/x-msdos-program", "application/x-dosexec",
                        "application/hta", "application/x-javascript", "text/vbscript"};
    // Rule 4. Shown as evidence; no weight of their own by default.
    r.size.bands = {
        {"tiny (< 4 KB)", 0, 4096, 0},
        {"payload-sized (8 KB - 256 KB)", 8192, 262144, 0},
        {"large (>= 10 MB)", 10'000'000, 0, 0},
    };
    r.baseline.keys = {KeyKind::Sender, KeyKind::Unit, KeyKind::Subnet, KeyKind::Server};
    return r;
}

std::int64_t RuleSet::longestWindowMs() const {
    std::int64_t w = 0;
    for (const RateRule& x : rates) w = std::max<std::int64_t>(w, x.windowSec);
    for (const VolumeRule& x : volumes) w = std::max<std::int64_t>(w, x.windowSec);
    w = std::max<std::int64_t>({w, baseline.windowSec, baseline.historySec, fanout.windowSec, burst.windowSec,
                                propagation.windowSec, propagation.spreadWindowSec, similar.windowSec,
                                contacts.windowSec, contacts.exposureSec});
    // The confirmation rule's replay memory and rate window (history it must see again).
    if (confirm.enabled) w = std::max<std::int64_t>({w, confirm.replayWindowSec, confirm.rateWindowSec});
    return w * 1000;
}

QJsonObject RuleSet::toJson() const {
    QJsonArray rateArr, volArr, bandArr, baseKeys;
    for (const RateRule& x : rates)
        rateArr.append(QJsonObject{{"id", QString::fromStdString(x.id)},
                                   {"key", keyKindName(x.key)},
                                   {"metric", x.metric == Metric::Messages ? "messages" : "recipients"},
                                   {"window", x.windowSec},
                                   {"threshold", static_cast<qint64>(x.threshold)},
                                   {"weight", x.weight},
                                   {"enabled", x.enabled}});
    for (const VolumeRule& x : volumes)
        volArr.append(QJsonObject{{"id", QString::fromStdString(x.id)},
                                  {"link", linkKindName(x.link)},
                                  {"window", x.windowSec},
                                  {"threshold_bytes", static_cast<qint64>(x.thresholdBytes)},
                                  {"weight", x.weight},
                                  {"enabled", x.enabled}});
    for (const SizeBand& b : size.bands)
        bandArr.append(QJsonObject{{"label", QString::fromStdString(b.label)},
                                   {"min", static_cast<qint64>(b.min)},
                                   {"max", static_cast<qint64>(b.max)},
                                   {"weight", b.weight}});
    for (KeyKind k : baseline.keys) baseKeys.append(keyKindName(k));
    return QJsonObject{
        {"version", version},
        {"decision", QJsonObject{{"threshold", decision.threshold},
                                 {"behaviour_cap", decision.behaviourCap},
                                 {"aggregate_cap", decision.aggregateCap}}},
        {"rate", rateArr},
        {"volume", volArr},
        {"subnet", QJsonObject{{"ipv4_prefix", subnetPrefixV4}, {"ipv6_prefix", subnetPrefixV6}}},
        {"type", QJsonObject{{"enabled", type.enabled},
                             {"executable", strings(type.executable)},
                             {"script", strings(type.script)},
                             {"macro", strings(type.macro)},
                             {"archive", strings(type.archive)},
                             {"decoy", strings(type.decoy)},
                             {"mime_types", strings(type.mimeTypes)},
                             {"weight_dangerous", type.weightDangerous},
                             {"weight_macro", type.weightMacro},
                             {"weight_archive", type.weightArchive}}},
        {"size", QJsonObject{{"enabled", size.enabled}, {"bands", bandArr}}},
        {"baseline", QJsonObject{{"enabled", baseline.enabled},
                                 {"keys", baseKeys},
                                 {"window", baseline.windowSec},
                                 {"history", baseline.historySec},
                                 {"factor", baseline.factor},
                                 {"min_count", static_cast<qint64>(baseline.minCount)},
                                 {"weight", baseline.weight},
                                 {"weight_aggregate", baseline.weightAggregate}}},
        {"fanout", QJsonObject{{"enabled", fanout.enabled},
                               {"window", fanout.windowSec},
                               {"threshold", static_cast<qint64>(fanout.threshold)},
                               {"weight", fanout.weight}}},
        {"burst", QJsonObject{{"enabled", burst.enabled},
                              {"window", burst.windowSec},
                              {"threshold", static_cast<qint64>(burst.threshold)},
                              {"max_recipients", burst.maxRecipients},
                              {"weight", burst.weight},
                              {"attachment_bonus", burst.attachmentBonus}}},
        {"propagation", QJsonObject{{"enabled", propagation.enabled},
                                    {"window", propagation.windowSec},
                                    {"weight_strong", propagation.weightStrong},
                                    {"weight_weak", propagation.weightWeak},
                                    {"spread_min", static_cast<qint64>(propagation.spreadMin)},
                                    {"spread_window", propagation.spreadWindowSec},
                                    {"size_band_ratio", propagation.sizeBandRatio},
                                    {"common_senders", propagation.commonSenders}}},
        {"similar", QJsonObject{{"enabled", similar.enabled}, {"window", similar.windowSec}, {"weight", similar.weight}}},
        {"contacts", QJsonObject{{"enabled", contacts.enabled},
                                 {"window", contacts.windowSec},
                                 {"min_count", static_cast<qint64>(contacts.minCount)},
                                 {"factor", contacts.factor},
                                 {"exposed_min_count", static_cast<qint64>(contacts.exposedMinCount)},
                                 {"exposed_factor", contacts.exposedFactor},
                                 {"exposure", contacts.exposureSec},
                                 {"weight", contacts.weight}}},
        {"confirm", QJsonObject{{"enabled", confirm.enabled},
                                {"weight", confirm.weight},
                                {"max_skew", confirm.maxSkewSec},
                                {"replay_window", confirm.replayWindowSec},
                                {"require_always", confirm.requireAlways},
                                {"max_recipients", confirm.maxRecipients},
                                {"rate_messages", confirm.rateMessages},
                                {"rate_window", confirm.rateWindowSec},
                                {"risky_attachments", confirm.riskyAttachments}}},
    };
}

QByteArray RuleSet::toJsonBytes() const { return QJsonDocument(toJson()).toJson(QJsonDocument::Indented); }

bool RuleSet::fromJson(const QByteArray& json, RuleSet& out, QString* error) {
    auto fail = [&](const QString& why) {
        if (error) *error = why;
        return false;
    };
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &pe);
    if (doc.isNull() || !doc.isObject()) return fail(QStringLiteral("not a rule set: %1").arg(pe.errorString()));
    const QJsonObject o = doc.object();
    RuleSet r = defaults();
    read(o, "version", r.version);
    if (r.version != 1) return fail(QStringLiteral("rule set version %1 is not known to this build").arg(r.version));
    const QJsonObject dec = o.value(QLatin1String("decision")).toObject();
    read(dec, "threshold", r.decision.threshold);
    read(dec, "behaviour_cap", r.decision.behaviourCap);
    read(dec, "aggregate_cap", r.decision.aggregateCap);
    if (o.contains(QLatin1String("rate"))) {
        r.rates.clear();
        for (const QJsonValue& v : o.value(QLatin1String("rate")).toArray()) {
            const QJsonObject x = v.toObject();
            RateRule rr;
            rr.id = x.value(QLatin1String("id")).toString().toStdString();
            if (!keyKindFromName(x.value(QLatin1String("key")).toString(QStringLiteral("sender")), rr.key))
                return fail(QStringLiteral("rate rule '%1': unknown key '%2'")
                                .arg(QString::fromStdString(rr.id), x.value(QLatin1String("key")).toString()));
            const QString metric = x.value(QLatin1String("metric")).toString(QStringLiteral("messages"));
            if (metric == QLatin1String("messages")) rr.metric = Metric::Messages;
            else if (metric == QLatin1String("recipients")) rr.metric = Metric::Recipients;
            else return fail(QStringLiteral("rate rule '%1': unknown metric '%2'").arg(QString::fromStdString(rr.id), metric));
            read(x, "window", rr.windowSec);
            read(x, "threshold", rr.threshold);
            read(x, "weight", rr.weight);
            read(x, "enabled", rr.enabled);
            if (rr.id.empty()) rr.id = std::string("rate-") + keyKindName(rr.key) + "-" + metric.toStdString();
            r.rates.push_back(rr);
        }
    }
    if (o.contains(QLatin1String("volume"))) {
        r.volumes.clear();
        for (const QJsonValue& v : o.value(QLatin1String("volume")).toArray()) {
            const QJsonObject x = v.toObject();
            VolumeRule vr;
            vr.id = x.value(QLatin1String("id")).toString().toStdString();
            if (!linkKindFromName(x.value(QLatin1String("link")).toString(QStringLiteral("client-server")), vr.link))
                return fail(QStringLiteral("volume rule '%1': unknown link '%2'")
                                .arg(QString::fromStdString(vr.id), x.value(QLatin1String("link")).toString()));
            read(x, "window", vr.windowSec);
            read(x, "threshold_bytes", vr.thresholdBytes);
            read(x, "weight", vr.weight);
            read(x, "enabled", vr.enabled);
            if (vr.id.empty()) vr.id = std::string("volume-") + linkKindName(vr.link);
            r.volumes.push_back(vr);
        }
    }
    const QJsonObject sub = o.value(QLatin1String("subnet")).toObject();
    read(sub, "ipv4_prefix", r.subnetPrefixV4);
    read(sub, "ipv6_prefix", r.subnetPrefixV6);
    r.subnetPrefixV4 = std::clamp(r.subnetPrefixV4, 0, 32);
    r.subnetPrefixV6 = std::clamp(r.subnetPrefixV6, 0, 128);
    const QJsonObject ty = o.value(QLatin1String("type")).toObject();
    read(ty, "enabled", r.type.enabled);
    if (ty.contains(QLatin1String("executable"))) r.type.executable = stringsFrom(ty.value(QLatin1String("executable")));
    if (ty.contains(QLatin1String("script"))) r.type.script = stringsFrom(ty.value(QLatin1String("script")));
    if (ty.contains(QLatin1String("macro"))) r.type.macro = stringsFrom(ty.value(QLatin1String("macro")));
    if (ty.contains(QLatin1String("archive"))) r.type.archive = stringsFrom(ty.value(QLatin1String("archive")));
    if (ty.contains(QLatin1String("decoy"))) r.type.decoy = stringsFrom(ty.value(QLatin1String("decoy")));
    if (ty.contains(QLatin1String("mime_types"))) r.type.mimeTypes = stringsFrom(ty.value(QLatin1String("mime_types")));
    read(ty, "weight_dangerous", r.type.weightDangerous);
    read(ty, "weight_macro", r.type.weightMacro);
    read(ty, "weight_archive", r.type.weightArchive);
    const QJsonObject sz = o.value(QLatin1String("size")).toObject();
    read(sz, "enabled", r.size.enabled);
    if (sz.contains(QLatin1String("bands"))) {
        r.size.bands.clear();
        for (const QJsonValue& v : sz.value(QLatin1String("bands")).toArray()) {
            const QJsonObject x = v.toObject();
            SizeBand b;
            b.label = x.value(QLatin1String("label")).toString().toStdString();
            read(x, "min", b.min);
            read(x, "max", b.max);
            read(x, "weight", b.weight);
            r.size.bands.push_back(b);
        }
    }
    const QJsonObject bl = o.value(QLatin1String("baseline")).toObject();
    read(bl, "enabled", r.baseline.enabled);
    if (bl.contains(QLatin1String("keys"))) {
        r.baseline.keys.clear();
        for (const QJsonValue& v : bl.value(QLatin1String("keys")).toArray()) {
            KeyKind k;
            if (!keyKindFromName(v.toString(), k)) return fail(QStringLiteral("baseline: unknown key '%1'").arg(v.toString()));
            r.baseline.keys.push_back(k);
        }
    }
    read(bl, "window", r.baseline.windowSec);
    read(bl, "history", r.baseline.historySec);
    read(bl, "factor", r.baseline.factor);
    read(bl, "min_count", r.baseline.minCount);
    read(bl, "weight", r.baseline.weight);
    read(bl, "weight_aggregate", r.baseline.weightAggregate);
    const QJsonObject fo = o.value(QLatin1String("fanout")).toObject();
    read(fo, "enabled", r.fanout.enabled);
    read(fo, "window", r.fanout.windowSec);
    read(fo, "threshold", r.fanout.threshold);
    read(fo, "weight", r.fanout.weight);
    const QJsonObject bu = o.value(QLatin1String("burst")).toObject();
    read(bu, "enabled", r.burst.enabled);
    read(bu, "window", r.burst.windowSec);
    read(bu, "threshold", r.burst.threshold);
    read(bu, "max_recipients", r.burst.maxRecipients);
    read(bu, "weight", r.burst.weight);
    read(bu, "attachment_bonus", r.burst.attachmentBonus);
    const QJsonObject pr = o.value(QLatin1String("propagation")).toObject();
    read(pr, "enabled", r.propagation.enabled);
    read(pr, "window", r.propagation.windowSec);
    read(pr, "weight_strong", r.propagation.weightStrong);
    read(pr, "weight_weak", r.propagation.weightWeak);
    read(pr, "spread_min", r.propagation.spreadMin);
    read(pr, "spread_window", r.propagation.spreadWindowSec);
    read(pr, "size_band_ratio", r.propagation.sizeBandRatio);
    read(pr, "common_senders", r.propagation.commonSenders);
    if (r.propagation.commonSenders < 1) return fail(QStringLiteral("propagation: common_senders must be at least 1"));
    if (!(r.propagation.sizeBandRatio > 1.0)) return fail(QStringLiteral("propagation: size_band_ratio must be above 1"));
    const QJsonObject si = o.value(QLatin1String("similar")).toObject();
    read(si, "enabled", r.similar.enabled);
    read(si, "window", r.similar.windowSec);
    read(si, "weight", r.similar.weight);
    const QJsonObject ct = o.value(QLatin1String("contacts")).toObject();
    read(ct, "enabled", r.contacts.enabled);
    read(ct, "window", r.contacts.windowSec);
    read(ct, "min_count", r.contacts.minCount);
    read(ct, "factor", r.contacts.factor);
    read(ct, "exposed_min_count", r.contacts.exposedMinCount);
    read(ct, "exposed_factor", r.contacts.exposedFactor);
    read(ct, "exposure", r.contacts.exposureSec);
    read(ct, "weight", r.contacts.weight);
    const QJsonObject co = o.value(QLatin1String("confirm")).toObject();
    read(co, "enabled", r.confirm.enabled);
    read(co, "weight", r.confirm.weight);
    read(co, "max_skew", r.confirm.maxSkewSec);
    read(co, "replay_window", r.confirm.replayWindowSec);
    read(co, "require_always", r.confirm.requireAlways);
    read(co, "max_recipients", r.confirm.maxRecipients);
    read(co, "rate_messages", r.confirm.rateMessages);
    read(co, "rate_window", r.confirm.rateWindowSec);
    read(co, "risky_attachments", r.confirm.riskyAttachments);
    if (r.confirm.maxSkewSec < 0) return fail(QStringLiteral("confirm: max_skew must not be negative"));
    if (r.confirm.maxRecipients < 0 || r.confirm.rateMessages < 0)
        return fail(QStringLiteral("confirm: max_recipients and rate_messages must not be negative"));
    for (int w : {r.confirm.replayWindowSec, r.confirm.rateWindowSec,
                  r.baseline.windowSec, r.baseline.historySec, r.fanout.windowSec, r.burst.windowSec,
                  r.propagation.windowSec, r.propagation.spreadWindowSec, r.similar.windowSec,
                  r.contacts.windowSec, r.contacts.exposureSec})
        if (w <= 0) return fail(QStringLiteral("every window must be positive"));
    for (const RateRule& x : r.rates)
        if (x.windowSec <= 0) return fail(QStringLiteral("rate rule '%1': window must be positive").arg(QString::fromStdString(x.id)));
    for (const VolumeRule& x : r.volumes)
        if (x.windowSec <= 0) return fail(QStringLiteral("volume rule '%1': window must be positive").arg(QString::fromStdString(x.id)));
    out = std::move(r);
    return true;
}

} // namespace mt::det
