package psparse

import "sync"

// The audit of other programs' rules ([windows] foreign_rules) and what
// it needs, as package powershell writes them: fixed blocks of lines,
// repeated here, not imported, so that the parser is an independent
// reading of the format (the tests read every script the backend writes).
// The only line that varies is the audit's mode.

// paramLine must be the script's first statement, right before stop.
const paramLine = "param([ValidateSet('apply', 'restore')] [string] $Mode = 'apply')"

// restoreBlock follows stop: with restore, the recorded rules are
// enabled again and the script ends.
const restoreBlock = `# Rules of other programs that an earlier run disabled are recorded by name in this file;
# run the script with restore to enable exactly those again (nothing else changes).
$portwallRecord = Join-Path $env:ProgramData 'portwall\disabled-foreign-rules.txt'
if ($Mode -eq 'restore') {
    foreach ($name in @(if (Test-Path -LiteralPath $portwallRecord) { Get-Content -LiteralPath $portwallRecord -Encoding UTF8 })) {
        if ($name -and (Get-NetFirewallRule -Name $name -ErrorAction SilentlyContinue)) {
            Enable-NetFirewallRule -Name $name
            Write-Output ('portwall: enabled again: ' + $name)
        }
    }
    if (Test-Path -LiteralPath $portwallRecord) { Remove-Item -LiteralPath $portwallRecord }
    exit 0
}`

// auditHead, a mode line, auditBody: after the last rule.
const auditHead = `# Audit of other programs' rules ([windows] foreign_rules): enabled inbound allow rules
# outside group portwall that share a protocol and port, or the program, with a rule of
# portwall's and list a remote address it does not. report lists them; disable also
# disables them (never deletes) and records their names for restore.`

// modeLines are the audit's two modes.
var modeLines = sync.OnceValue(func() map[string]string {
	return map[string]string{
		"$foreignRules = 'report'":  "report",
		"$foreignRules = 'disable'": "disable",
	}
})

const auditBody = `$portwallPorts = @{}; foreach ($f in @(Get-NetFirewallPortFilter -All)) { $portwallPorts[$f.InstanceID] = $f }
$portwallApps = @{}; foreach ($f in @(Get-NetFirewallApplicationFilter -All)) { $portwallApps[$f.InstanceID] = $f }
$portwallAddrs = @{}; foreach ($f in @(Get-NetFirewallAddressFilter -All)) { $portwallAddrs[$f.InstanceID] = $f }
function Get-PortwallFilters($Rule) {
    $protocol = [string]$portwallPorts[$Rule.InstanceID].Protocol
    switch ($protocol) { '6' { $protocol = 'TCP' } '17' { $protocol = 'UDP' } '1' { $protocol = 'ICMPv4' } '58' { $protocol = 'ICMPv6' } }
    $program = [string]$portwallApps[$Rule.InstanceID].Program
    if ($program -ne 'Any') { $program = [Environment]::ExpandEnvironmentVariables($program) }
    [pscustomobject]@{
        Protocol = $protocol
        Ports = @($portwallPorts[$Rule.InstanceID].LocalPort)
        Program = $program
        Remote = @($portwallAddrs[$Rule.InstanceID].RemoteAddress)
    }
}
function Get-PortwallRange([string]$Port) {
    if ($Port -match '^(\d+)-(\d+)$') { return @([int]$Matches[1], [int]$Matches[2]) }
    if ($Port -match '^\d+$') { return @([int]$Port, [int]$Port) }
    return $null
}
function Test-PortwallShared($Other, $Own) {
    if ($Own.Program -ne 'Any' -and $Other.Program -eq $Own.Program) { return $true }
    if ($Other.Protocol -ne 'Any' -and $Other.Protocol -ne $Own.Protocol) { return $false }
    if ($Own.Protocol -eq 'ICMPv4' -or $Own.Protocol -eq 'ICMPv6' -or $Other.Ports -contains 'Any') { return $true }
    foreach ($o in $Other.Ports) {
        $x = Get-PortwallRange $o
        if ($null -eq $x) { continue }
        foreach ($p in $Own.Ports) {
            $y = Get-PortwallRange $p
            if ($null -ne $y -and $x[0] -le $y[1] -and $y[0] -le $x[1]) { return $true }
        }
    }
    return $false
}
function Test-PortwallCovered($Other, $Own) {
    if ($Own.Remote -contains 'Any') { return $true }
    foreach ($a in $Other.Remote) { if ($Own.Remote -notcontains $a) { return $false } }
    return $true
}
$portwallOwn = @(foreach ($rule in @(Get-NetFirewallRule -Group 'portwall' -Direction Inbound -Action Allow -Enabled True -ErrorAction SilentlyContinue)) { Get-PortwallFilters $rule })
$portwallWider = @(foreach ($rule in @(Get-NetFirewallRule -Direction Inbound -Action Allow -Enabled True -ErrorAction SilentlyContinue)) {
    if ($rule.Group -eq 'portwall' -or $rule.DisplayName -like 'portwall-*') { continue }
    $other = Get-PortwallFilters $rule
    foreach ($own in $portwallOwn) {
        if ((Test-PortwallShared $other $own) -and -not (Test-PortwallCovered $other $own)) { $rule; break }
    }
})
foreach ($rule in $portwallWider) {
    Write-Warning ('portwall: a rule of another program allows more than portwall: ' + $rule.Name + ' (' + $rule.DisplayName + ')')
}
if ($foreignRules -eq 'disable' -and $portwallWider.Count -gt 0) {
    $names = @(if (Test-Path -LiteralPath $portwallRecord) { Get-Content -LiteralPath $portwallRecord -Encoding UTF8 }) + @(foreach ($rule in $portwallWider) { $rule.Name })
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $portwallRecord) | Out-Null
    Set-Content -LiteralPath $portwallRecord -Encoding UTF8 -Value @($names | Where-Object { $_ } | Sort-Object -Unique)
    $portwallWider | Disable-NetFirewallRule
    Write-Output ('portwall: disabled ' + $portwallWider.Count + ' rules of other programs, recorded in ' + $portwallRecord + '; run the script with restore to enable them again')
} elseif (Test-Path -LiteralPath $portwallRecord) {
    Write-Output ('portwall: rules of other programs that an earlier run disabled are recorded in ' + $portwallRecord + '; run the script with restore to enable them again')
}`
