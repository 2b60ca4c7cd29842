/// How the HTTP server listens and what it accepts.
public struct ServerOptions: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// When set, `/v1/*` and `/generate` need `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// The model id `/v1/models` lists and responses name.
    public var modelName: String
    /// Largest request body accepted (larger: 413).
    public var maxBodyBytes: Int
    /// On SIGTERM or SIGINT: seconds running requests get to finish before they are cancelled.
    public var shutdownTimeout: Double

    public init(host: String = "127.0.0.1", port: Int = 8000, apiKey: String? = nil, modelName: String = "deepseek",
                maxBodyBytes: Int = 4 << 20, shutdownTimeout: Double = 30) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.modelName = modelName
        self.maxBodyBytes = maxBodyBytes
        self.shutdownTimeout = shutdownTimeout
    }
}
