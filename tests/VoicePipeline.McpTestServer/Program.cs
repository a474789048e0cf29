// A tiny MCP server over stdio for the conversation layer's tests and the McpAgent example: deterministic tools.
// dotnet tests/VoicePipeline.McpTestServer/bin/Release/net10.0/VoicePipeline.McpTestServer.dll
using System.ComponentModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders(); // stdout is the protocol
builder.Services.AddMcpServer().WithStdioServerTransport().WithToolsFromAssembly();
await builder.Build().RunAsync();

/// <summary>The test server's tools.</summary>
[McpServerToolType]
public static class TestTools
{
    [McpServerTool(Name = "add"), Description("Adds two integers.")]
    public static int Add(int a, int b) => a + b;

    [McpServerTool(Name = "get_weather"), Description("Tells the weather in a city.")]
    public static string GetWeather([Description("The city")] string city) => $"sunny and 21 degrees in {city}";

    [McpServerTool(Name = "weather"), Description("Tells today's weather (a one-word name, for spoken requests).")]
    public static string Weather([Description("Where, if said")] string? place = null) => "sunny and 21 degrees";

    [McpServerTool(Name = "broken"), Description("Always fails.")]
    public static string Broken() => throw new InvalidOperationException("the broken tool is broken");
}
