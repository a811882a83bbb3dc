#include "commands.h"
#include "model_json.h"

namespace isoscope::native {

int RunInspect(const InspectArgs& args) {
  auto model = LoadBundle(args.bundle);
  if (!model.ok()) {
    std::fprintf(stderr, "isoscope inspect: %s\n", model.status().message().c_str());
    return ExitCodeFor(model.status());
  }
  if (args.json) {
    const std::string text =
        ModelToJson(*model, true).dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::printf("%s\n", text.c_str());
    return kExitOk;
  }
  PrintReport(stdout, *model);
  std::printf("canary check      passed\n");
  std::printf("thresholds        ");
  for (double c : {0.001, 0.005, 0.01, 0.02, 0.05, 0.1}) {
    auto t = model->ThresholdFor(c);
    if (t.ok()) {
      std::printf("c=%g: %.4f  ", c, *t);
    }
  }
  std::printf("\n");
  return kExitOk;
}

}  // namespace isoscope::native
