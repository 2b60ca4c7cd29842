import ArgumentParser
import Engine
import Foundation
import Server

/// `deepseek serve`: the OpenAI-compatible HTTP server.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a model over an OpenAI-compatible HTTP API.",
        discussion: """
        Endpoints: POST /v1/chat/completions, POST /v1/completions (both stream with "stream": true), GET /v1/models, \
        GET /health, GET /metrics (Prometheus), POST /generate. Requests are batched continuously over one shared paged KV \
        cache with prefix caching. SIGTERM or SIGINT stops taking requests and gives running ones --shutdown-timeout seconds.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var loading: LoadOptions
    @OptionGroup var engine: EngineOptionGroup
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8000
    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1 and /generate.") var apiKey: String?
    @Option(name: .customLong("served-model-name"), help: "Model id reported by /v1/models (default: the folder's name).") var servedModelName: String?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body accepted (larger: 413).") var maxBodyBytes = 4 << 20
    @Option(name: .customLong("shutdown-timeout"), help: "Seconds running requests get to finish after SIGTERM.") var shutdownTimeout = 30.0

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard maxBodyBytes > 0 else { throw ValidationError("--max-body-bytes must be ≥ 1, got \(maxBodyBytes)") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must be ≥ 0, got \(shutdownTimeout)") }
    }

    func run() async throws {
        runtime.apply()
        let engine = try model.loadEngine(loading, options: engine.options)
        let folder = try model.folder()
        let name = servedModelName ?? URL(fileURLWithPath: folder).standardizedFileURL.lastPathComponent
        let server = OpenAIServer(engine: engine, options: ServerOptions(host: host, port: port, apiKey: apiKey, modelName: name,
                                                                         maxBodyBytes: maxBodyBytes, shutdownTimeout: shutdownTimeout))
        let statistics = await engine.statistics()
        let host = self.host
        try await server.run { port in
            Output.status(String(format: "serving %@ on http://%@:%d (context %d, KV cache %d positions = %.1f MB, %@)", name, host, port,
                                 engine.contextLength, statistics.blocksTotal * statistics.blockSize,
                                 Double(statistics.blocksTotal * statistics.bytesPerBlock) / 1e6, engine.options.kvCacheEncoding.description))
        }
    }
}
