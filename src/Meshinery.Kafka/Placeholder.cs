namespace Meshinery.Kafka; internal static class Placeholder { }
