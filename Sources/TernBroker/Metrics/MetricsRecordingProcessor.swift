import TernOps
import TernProtocol
import TernRemoting
import TernStorage
import TernTransport

/// SET_METRICS_RECORDING (Tern's code 9120, benchmarks only): pauses or resumes metrics recording on this broker
/// (``BrokerMetrics/isRecording``), so `tools/bench-toggle metrics` compares recording on and off on
/// one process, alternating every second, free of the drift between two brokers started apart.
///
/// Served only with metrics on and `metricsRecordingToggleEnable=true` (off by default); otherwise the code is
/// not registered and the broker answers REQUEST_CODE_NOT_SUPPORTED. An admin code under ACL.
final class MetricsRecordingProcessor: BrokerProcessor {
    let context: BrokerContext

    init(context: BrokerContext) { self.context = context }

    var codes: [Int] {
        context.metering != nil && context.config.metrics.recordingToggleEnable ? [MetricsRequestCode.setMetricsRecording] : []
    }

    func handle(_ request: RemotingCommand, responder: RemotingResponder) {
        guard let metrics = context.metering?.metrics else {
            return responder.respond(code: ResponseCode.systemError, remark: "metrics are off")
        }
        guard let on = request.extFields.bool("recording") else {
            return responder.respond(code: ResponseCode.systemError, remark: "SET_METRICS_RECORDING needs recording=true|false")
        }
        metrics.setRecording(on)
        var answer: RemotingExtFields = ["recording": String(metrics.isRecording)]
        answer["storeMaxOffset"] = String(context.store.maxPhysicalOffset)
        responder.respond(code: ResponseCode.success, extFields: answer)
    }
}
