-- ArgoHooks health check for serving.kserve.io/InferenceService.
--
-- Runs as an argocd-cm health script: gopher-lua (Lua 5.1) with only the base, table and
-- package libraries, so it uses no string/math/os functions and no string methods. It must
-- never raise an error, whatever the object looks like: every read goes through field(),
-- which answers nil unless its first argument is a table. Rules (first match wins) are those
-- of docs/health-check.md; each returns one sentence that is stable enough to compare exactly.

local function field(t, key)
  if type(t) == "table" then
    return t[key]
  end
  return nil
end

-- A non-empty string, or nil: values of any other type are treated as absent.
local function text(value)
  if type(value) == "string" and value ~= "" then
    return value
  end
  return nil
end

local function verdict(status, message)
  return { status = status, message = message }
end

-- The condition of the given type in a list of conditions (nil when absent or malformed).
local function condition(conditions, conditionType)
  if type(conditions) ~= "table" then
    return nil
  end
  for _, candidate in ipairs(conditions) do
    if type(candidate) == "table" and candidate.type == conditionType then
      return candidate
    end
  end
  return nil
end

-- "<base> (<reason>): <message>" with whichever of reason and message exist.
local function explained(base, reason, message)
  if reason ~= nil and message ~= nil then
    return base .. " (" .. reason .. "): " .. message
  end
  if reason ~= nil then
    return base .. " (" .. reason .. ")."
  end
  if message ~= nil then
    return base .. ": " .. message
  end
  return base .. "."
end

-- Reasons after which KServe/Knative will not recover without a spec change.
local terminalReasons = {
  ProgressDeadlineExceeded = true,
  RevisionFailed = true,
  RevisionMissing = true,
}

local rawModes = { RawDeployment = true, Standard = true }

local hookPhases = {
  AwaitingArtifact = { status = "Progressing", text = "Waiting for the model artifact" },
  Restarting = { status = "Progressing", text = "Restarting the predictor to load the model" },
  Verifying = { status = "Progressing", text = "Verifying that the predictor serves the model" },
  Verified = { status = "Healthy", text = "The predictor serves the model" },
  Failed = { status = "Degraded", text = "Model verification failed" },
}

local metadata = field(obj, "metadata")
local annotations = field(metadata, "annotations")
local status = field(obj, "status")

-- Rule 1: the controller has not reported anything yet.
if type(status) ~= "table" then
  return verdict("Progressing", "Waiting for the KServe controller to report status.")
end

local conditions = field(status, "conditions")

-- Rule 2: stopped with the serving.kserve.io/stop annotation.
local stopped = condition(conditions, "Stopped")
if field(stopped, "status") == "True" then
  return verdict("Suspended", "The InferenceService is stopped by its serving.kserve.io/stop annotation.")
end

-- Rule 3: the model (or the predictor spec) failed and KServe will not retry by itself.
local modelStatus = field(status, "modelStatus")
local transitionStatus = field(modelStatus, "transitionStatus")
if transitionStatus == "BlockedByFailedLoad" or transitionStatus == "InvalidSpec" then
  local failure = field(modelStatus, "lastFailureInfo")
  local base = "The model failed to load"
  if transitionStatus == "InvalidSpec" then
    base = "The predictor spec is invalid"
  end
  return verdict("Degraded", explained(base, text(field(failure, "reason")), text(field(failure, "message"))))
end

-- Rule 4: Ready and PredictorReady; terminal reasons fail the sync, anything else waits.
local function describe(conditionType, found)
  if found == nil then
    return "Waiting for the KServe controller to report the " .. conditionType .. " condition."
  end
  local state = text(field(found, "status"))
  if state == nil then
    state = "without status"
  end
  return explained(conditionType .. " is " .. state, text(field(found, "reason")), text(field(found, "message")))
end

local predictorReady = condition(conditions, "PredictorReady")
local ready = condition(conditions, "Ready")
if field(predictorReady, "status") == "False" and terminalReasons[field(predictorReady, "reason")] then
  return verdict("Degraded", describe("PredictorReady", predictorReady))
end
if field(ready, "status") == "False" and terminalReasons[field(ready, "reason")] then
  return verdict("Degraded", describe("Ready", ready))
end
if predictorReady ~= nil and field(predictorReady, "status") ~= "True" then
  return verdict("Progressing", describe("PredictorReady", predictorReady))
end
if field(ready, "status") ~= "True" then
  return verdict("Progressing", describe("Ready", ready))
end

-- The deployment mode: status.deploymentMode, else the serving.kserve.io/deploymentMode annotation.
local mode = text(field(status, "deploymentMode"))
if mode == nil then
  mode = text(field(annotations, "serving.kserve.io/deploymentMode"))
end

-- Rule 5: Knative has created a revision that is not ready yet (a restart in flight).
if not rawModes[mode] and mode ~= "ModelMesh" then
  local predictor = field(field(status, "components"), "predictor")
  local created = text(field(predictor, "latestCreatedRevision"))
  local readyRevision = text(field(predictor, "latestReadyRevision"))
  if created ~= nil and created ~= readyRevision then
    if readyRevision ~= nil then
      return verdict("Progressing", "Knative revision " .. created .. " is not ready yet; " .. readyRevision .. " still serves.")
    end
    return verdict("Progressing", "Knative revision " .. created .. " is not ready yet.")
  end
end

-- Rule 6: the hook service's verdict, when it applies to the current generation.
local generation = field(metadata, "generation")
local currentGeneration = nil
if type(generation) == "number" then
  currentGeneration = tostring(generation)
end
local phase = hookPhases[field(annotations, "argohooks.io/phase")]
local phaseGeneration = field(annotations, "argohooks.io/generation")
if phase ~= nil and currentGeneration ~= nil and phaseGeneration == currentGeneration then
  -- The hook service's own sentence says best what happened and what comes next.
  local hookMessage = text(field(annotations, "argohooks.io/message"))
  if hookMessage ~= nil then
    return verdict(phase.status, hookMessage)
  end
  return verdict(phase.status, phase.text .. " for generation " .. currentGeneration .. ".")
end

-- ModelMesh loads models itself and reports real load states, so no gate applies to it.
if mode == "ModelMesh" then
  if transitionStatus == "InProgress" then
    return verdict("Progressing", "ModelMesh is loading the model.")
  end
  return verdict("Healthy", "ModelMesh reports the model loaded.")
end

-- Rule 7: never verified, or verified for an older generation.
local forGeneration = ""
if currentGeneration ~= nil then
  forGeneration = " for generation " .. currentGeneration
end
local gate = field(annotations, "argohooks.io/gate")
if gate == "strict" then
  return verdict("Progressing", "Waiting for the hook service to verify the model load" .. forGeneration .. " (gate strict).")
end
if gate == nil or gate == "" or gate == "deferred" then
  return verdict("Healthy", "The predictor is ready; the model load is not verified" .. forGeneration .. " yet (gate deferred).")
end
local shownGate = "of an unexpected type"
if type(gate) == "string" then
  shownGate = "\"" .. gate .. "\""
end
return verdict("Healthy", "The predictor is ready; the model load is not verified" .. forGeneration .. " yet (unknown gate " .. shownGate .. " treated as deferred).")
