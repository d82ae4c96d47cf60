import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TernClient
import TernRemoting
import TernTransport

/// An HTTP error answer: a status and the JSON body `{"code": <RocketMQ response code>, "error": "..."}`.
///
/// Broker answers map by their code: flow control / busy → 429, NO_PERMISSION → 403, TOPIC_NOT_EXIST → 404,
/// MESSAGE_ILLEGAL → 400, unavailable (disk full, not master, unreachable broker) → 503.
public struct GatewayError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The RocketMQ response code behind the answer (SYSTEM_ERROR for the gateway's own refusals of a request).
    public var code: Int
    public var message: String

    public init(_ status: HTTPResponse.Status, code: Int, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }
    public var headers: HTTPFields { [.contentType: "application/json"] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: jsonBody)))
    }

    public var jsonBody: [UInt8] {
        struct Body: Encodable { var code: Int; var error: String }
        return GatewayJSON.encode(Body(code: code, error: message))
    }

    static func badRequest(_ message: String) -> GatewayError {
        GatewayError(.badRequest, code: ResponseCode.messageIllegal, message)
    }

    static func forbidden(_ message: String) -> GatewayError {
        GatewayError(.forbidden, code: ResponseCode.noPermission, message)
    }

    static func tooLarge(_ size: Int, limit: Int) -> GatewayError {
        GatewayError(.contentTooLarge, code: ResponseCode.messageIllegal,
                     "message body of \(size) bytes exceeds maxMessageSize \(limit)")
    }

    /// The answer for a failure of the gateway's client: broker codes by meaning, transport failures 503.
    static func mapping(_ error: any Error) -> GatewayError {
        if let error = error as? GatewayError { return error }
        switch error {
        case ClientError.topicNotFound(let topic):
            return GatewayError(.notFound, code: ResponseCode.topicNotExist, "topic \(topic) does not exist")
        case ClientError.response(let code, let remark, _):
            return GatewayError(status(ofBrokerCode: code), code: code, remark ?? "\(error)")
        case ClientError.invalidArgument(let reason):
            return badRequest(reason)
        case ClientError.noQueue, ClientError.noMasterAddress, ClientError.nameServerUnreachable, is TransportError:
            return GatewayError(.serviceUnavailable, code: ResponseCode.serviceNotAvailable, "\(error)")
        default:
            return GatewayError(.internalServerError, code: ResponseCode.systemError, "\(error)")
        }
    }

    static func status(ofBrokerCode code: Int) -> HTTPResponse.Status {
        switch code {
        case ResponseCode.flowControl, ResponseCode.systemBusy: .tooManyRequests
        case ResponseCode.noPermission: .forbidden
        case ResponseCode.topicNotExist, ResponseCode.subscriptionGroupNotExist: .notFound
        case ResponseCode.messageIllegal, ResponseCode.subscriptionParseFailed: .badRequest
        case ResponseCode.serviceNotAvailable, ResponseCode.slaveNotAvailable: .serviceUnavailable
        default: .internalServerError
        }
    }
}
