import Engine
import Foundation
import Hummingbird
import Model
import NIOCore
import Sampling
import Tokenizer

/// An error as the OpenAI API reports it: a status and `{"error": {"message", "type", "param", "code"}}`.
public struct APIError: Error, HTTPResponseError, Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let message: String
    public let type: String
    public let param: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String? = nil, param: String? = nil) {
        self.status = status
        self.message = message
        self.param = param
        let byStatus = switch status.code {
        case 401: "authentication_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 500...: "server_error"
        default: "invalid_request_error"
        }
        self.type = type ?? byStatus
    }

    public static func invalid(_ message: String, param: String? = nil) -> APIError { APIError(.badRequest, message, param: param) }

    /// The status and message for an error thrown while serving a request.
    public init(_ error: Error) {
        switch error {
        case let error as APIError: self = error
        case let error as EngineError:
            switch error {
            case .queueFull: self.init(.tooManyRequests, error.description)
            case .shuttingDown: self.init(.serviceUnavailable, error.description)
            case .stalled: self.init(.internalServerError, error.description)
            default: self.init(.badRequest, error.description)
            }
        case let error as SamplingError:
            switch error {
            case let .invalid(name, _, _): self.init(.badRequest, error.description, param: name)
            }
        case let error as ModelError: self.init(.badRequest, error.description)
        case let error as TokenizerError: self.init(.badRequest, error.description)
        case let error as TemplateError: self.init(.badRequest, "chat template: \(error.description)")
        case is NIOTooManyBytesError: self.init(.contentTooLarge, "the request body is larger than the server accepts")
        case let error as HTTPResponseError where error.status == .notFound: self.init(.notFound, "no such endpoint")
        case let error as HTTPResponseError where error.status == .methodNotAllowed: self.init(.methodNotAllowed, "method not allowed on this endpoint")
        case let error as HTTPResponseError: self.init(error.status, "\(error)")
        default: self.init(.internalServerError, "internal error: \(error)")
        }
    }

    public var headers: HTTPFields { [:] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: Any] = ["message": message, "type": type, "code": status.code]
        body["param"] = param ?? NSNull()
        let data = try JSONSerialization.data(withJSONObject: ["error": body], options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns every error a route throws (a missing route and an oversized body included) into the OpenAI error
/// JSON with its status, and counts every response by status.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.countResponse(status: response.status.code)
            return response
        } catch {
            let error = APIError(error)
            metrics.countResponse(status: error.status.code)
            return try error.response(from: request, context: context)
        }
    }
}

/// With an API key set, every `/v1` and `/generate` request must carry `Authorization: Bearer KEY`.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if path.hasPrefix("/v1/") || path == "/generate" {
            guard let header = request.headers[.authorization] else {
                throw APIError(.unauthorized, "missing API key: send 'Authorization: Bearer KEY'")
            }
            guard header == "Bearer \(key)" else { throw APIError(.unauthorized, "invalid API key") }
        }
        return try await next(request, context)
    }
}
