using System.Globalization;
using System.Text.Json;

namespace Meshinery.Kafka.Tests.Support;

public sealed record Order(string Id, string Customer, double Amount)
{
    public static string Json(int id) => JsonSerializer.Serialize(
        new Order(id.ToString(CultureInfo.InvariantCulture), "customer-" + (id % 17).ToString(CultureInfo.InvariantCulture), id % 100 + 0.5),
        JsonSerializerOptions.Web);
}
