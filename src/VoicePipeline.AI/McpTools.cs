using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;

namespace VoicePipeline.AI;

/// <summary>
/// Tools from MCP servers through the official ModelContextProtocol SDK, over stdio or HTTP: each
/// <see cref="McpClientTool"/> already is an <see cref="AIFunction"/>, so <see cref="LlmContext.AddTools"/> takes them
/// as they are and the <see cref="LlmService"/> calls them like any other function.
/// </summary>
public static class McpTools
{
    /// <summary>Starts an MCP server as a child process speaking over stdio and lists its tools.</summary>
    /// <param name="command">The program to run.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="name">A name for logs; defaults to the command.</param>
    /// <param name="loggerFactory">Logging for the MCP client.</param>
    /// <param name="cancellationToken">Cancels the connection.</param>
    public static Task<McpToolSet> ConnectStdioAsync(string command, IEnumerable<string>? arguments = null, string? name = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Command = command,
            Arguments = [.. arguments ?? []],
            Name = name ?? Path.GetFileName(command),
        }, loggerFactory);
        return ConnectAsync(transport, loggerFactory, cancellationToken);
    }

    /// <summary>Starts an MCP server from one command line (<c>"COMMAND ARGS..."</c>, with shell-style quotes) over stdio and lists its tools.</summary>
    public static Task<McpToolSet> ConnectCommandLineAsync(string commandLine, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var words = SplitCommandLine(commandLine);
        if (words.Count == 0)
            throw new ArgumentException("The MCP server command line is empty.", nameof(commandLine));
        return ConnectStdioAsync(words[0], words.Skip(1), null, loggerFactory, cancellationToken);
    }

    /// <summary>Connects to an MCP server over HTTP (streamable HTTP, or SSE for older servers) and lists its tools.</summary>
    public static Task<McpToolSet> ConnectHttpAsync(Uri endpoint, string? name = null, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var transport = new HttpClientTransport(new HttpClientTransportOptions { Endpoint = endpoint, Name = name ?? endpoint.Host }, loggerFactory);
        return ConnectAsync(transport, loggerFactory, cancellationToken);
    }

    /// <summary>Connects to an MCP server over any transport and lists its tools.</summary>
    public static async Task<McpToolSet> ConnectAsync(IClientTransport transport, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var client = await McpClient.CreateAsync(transport, null, loggerFactory, cancellationToken).ConfigureAwait(false);
        try
        {
            var tools = await client.ListToolsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return new McpToolSet(client, [.. tools]);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Splits a command line into words: spaces separate, single or double quotes group, a backslash escapes.</summary>
    public static IReadOnlyList<string> SplitCommandLine(string commandLine)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        char? quote = null;
        for (var i = 0; i < commandLine.Length; i++)
        {
            var c = commandLine[i];
            if (c == '\\' && i + 1 < commandLine.Length && quote != '\'')
            {
                word.Append(commandLine[++i]);
                inWord = true;
            }
            else if (quote is not null)
            {
                if (c == quote)
                    quote = null;
                else
                    word.Append(c);
            }
            else if (c is '"' or '\'')
            {
                quote = c;
                inWord = true;
            }
            else if (char.IsWhiteSpace(c))
            {
                if (inWord)
                    words.Add(word.ToString());
                word.Clear();
                inWord = false;
            }
            else
            {
                word.Append(c);
                inWord = true;
            }
        }
        if (quote is not null)
            throw new ArgumentException("The command line has an unclosed quote.", nameof(commandLine));
        if (inWord)
            words.Add(word.ToString());
        return words;
    }
}

/// <summary>An MCP server's connection and its tools; disposing it closes the connection (and stops a stdio server).</summary>
public sealed class McpToolSet : IAsyncDisposable
{
    internal McpToolSet(McpClient client, IReadOnlyList<McpClientTool> tools)
    {
        Client = client;
        Tools = tools;
    }

    /// <summary>Gets the MCP client.</summary>
    public McpClient Client { get; }

    /// <summary>Gets the server's tools, each an <see cref="AIFunction"/>.</summary>
    public IReadOnlyList<McpClientTool> Tools { get; }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Client.DisposeAsync();
}
