import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare HTTP/1.1 client on a socket, for what ordinary clients do not do on purpose: hang up in the
/// middle of a streamed response.
enum RawHTTPClient {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends a POST to 127.0.0.1:`port`, reads until `afterEvents` server-sent events have arrived, then
    /// closes the connection; returns how many events were seen.
    static func postAndHangUp(port: Int, path: String, body: String, afterEvents: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
        let request = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var received = "", buffer = [UInt8](repeating: 0, count: 4096)
        while received.components(separatedBy: "data: ").count - 1 < afterEvents {
            let count = recv(fd, &buffer, buffer.count, 0)
            guard count > 0 else { break }
            received += String(decoding: buffer[0..<count], as: UTF8.self)
        }
        return received.components(separatedBy: "data: ").count - 1
    }
}
