namespace Meshinery; internal static class Placeholder { }
